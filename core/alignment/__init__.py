"""Alignment of two embedding spaces: adversarial (MUSE), robust self-learning (VecMap-style),
supervised and semi-supervised Procrustes, with an unsupervised model-selection criterion.

Entry point: `align(src, tgt, config) -> AlignmentResult` in `core.alignment.pipeline`.
"""

from core.alignment.base import METHODS, AlignConfig, AlignmentResult
from core.alignment.mapping import Mapping
from core.alignment.pipeline import align

__all__ = ["METHODS", "AlignConfig", "AlignmentResult", "Mapping", "align"]
