"""Build a small, structured fixture project through the project API (tests, and until the demo exists).

The "speech" is synthetic: two-tone clips, one pattern per speech type, embedded by the project's
band-energy encoder (a stand-in, not a speech model). The English text space is a rotation of the
speech space plus noise, French a rotation of English plus noise, so the stored mappings are right
by construction and a new tone clip of a type classifies to that type's English word. Everything
is labelled synthetic.

    .venv/bin/python scripts/make_fixture_project.py OUT_FOLDER [--words 40]
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.alignment.mapping import SidePreprocess  # noqa: E402
from core.classify import _band_energy_embedder  # noqa: E402
from core.embeddings import Embeddings  # noqa: E402
from core.vectors import unit_rows  # noqa: E402

SR = 16000
ENCODER_CONFIG = {"kind": "band-energy", "bands": 16, "max_hz": 4000.0}
EN = ("water fire stone tree river house bread milk child mother father sun moon star rain snow wind "
      "road door hand head eye mouth dog cat bird fish horse cow egg salt meat apple wine night day "
      "year king book ship").split()
FR = ("eau feu pierre arbre rivière maison pain lait enfant mère père soleil lune étoile pluie neige vent "
      "route porte main tête œil bouche chien chat oiseau poisson cheval vache œuf sel viande pomme vin nuit "
      "jour année roi livre navire").split()
SYNTHETIC_NOTE = "fixture: two-tone clips standing in for speech (not recorded or synthesised speech)"


def tone_pattern(index: int) -> tuple[float, float]:
    """The two tone frequencies (Hz) of speech type `index` (centres of two of the 16 bands)."""
    a, b = list(itertools.combinations(range(16), 2))[(index * 7) % 120]
    return 125.0 + 250.0 * a, 125.0 + 250.0 * b


def tone_clip(index: int, seconds: float = 0.4, pad: float = 0.3, seed: int = 0) -> np.ndarray:
    """A clip of speech type `index`: silence, two tones with a fade, silence (float32, 16 kHz)."""
    rng = np.random.default_rng(seed)
    f1, f2 = tone_pattern(index)
    t = np.arange(int(seconds * SR)) / SR
    word = 0.5 * np.sin(2 * np.pi * f1 * t) + 0.25 * np.sin(2 * np.pi * f2 * t)
    word *= np.minimum(1.0, np.minimum(t, seconds - t) / 0.02)
    silence = np.zeros(int(pad * SR))
    clip = np.concatenate([silence, word, silence]) + rng.normal(0, 1e-4, int(seconds * SR) + 2 * len(silence))
    return clip.astype(np.float32)


def _rotation(dim: int, rng) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(dim, dim)))
    return (q * np.sign(np.diag(r))).astype(np.float32)


def _unit(x: np.ndarray) -> np.ndarray:
    """Unit rows computed in float64 (the fixture's numbers depend on it), stored as float32."""
    return unit_rows(x, dtype=np.float64).astype(np.float32)


def _near_identity(dim: int, angle: float, rng) -> np.ndarray:
    """A rotation about `angle` radians away from the identity (to store a deliberately imperfect map)."""
    from scipy.linalg import expm

    a = rng.normal(size=(dim, dim))
    a = (a - a.T) / np.linalg.norm(a - a.T, 2)
    return expm(angle * a).astype(np.float32)


def build_fixture_project(path, n_words: int = 40, n_distractors: int = 30, seed: int = 0, noise: float = 0.05,
                          mapping_error: float = 0.0):
    """Create the fixture project at `path` and return it (opened).

    `mapping_error` > 0 stores a speech → English map rotated that many radians off the truth, so
    that refining with confirmed pairs has something to fix.
    """
    from core.project.project import Project

    n_words = min(n_words, len(EN))
    rng = np.random.default_rng(seed)
    embed = _band_energy_embedder(ENCODER_CONFIG)
    speech_vectors = np.stack([embed(tone_clip(i), SR) for i in range(n_words)])
    src_pre, x = SidePreprocess.fit(speech_vectors, "unit,center,unit")
    dim = x.shape[1]
    r_en, r_fr = _rotation(dim, rng), _rotation(dim, rng)
    en = _unit(x @ r_en.T + noise * rng.normal(size=x.shape))
    en = np.vstack([en, _unit(rng.normal(size=(n_distractors, dim)))])
    fr = _unit(en[:n_words] @ r_fr.T + noise * rng.normal(size=(n_words, dim)))
    counts = np.arange(n_words + n_distractors, 0, -1) * 10
    project = Project.create(path, "Fixture (synthetic tones)", description="small structured fixture",
                             languages=["en", "fr"], synthetic_speech=True, synthetic_speech_note=SYNTHETIC_NOTE)
    speech_words = [f"s{i:03d}" for i in range(n_words)]
    project.add_space("speech-en", Embeddings(speech_words, speech_vectors, counts[:n_words], "en", "speech"),
                      synthetic=True, synthetic_note=SYNTHETIC_NOTE, provenance={"tool": "make_fixture_project"})
    distractors = [f"word{i:02d}" for i in range(n_distractors)]
    project.add_space("text-en", Embeddings(EN[:n_words] + distractors, en, counts, "en", "text"))
    project.add_space("text-fr", Embeddings(FR[:n_words], fr, counts[:n_words], "fr", "text"))
    speech_arrays = {f"src.center_mean.{i}": m for i, m in enumerate(src_pre.center_means)}
    stored = r_en @ _near_identity(dim, mapping_error, rng) if mapping_error else r_en
    project.add_mapping("speech-en__text-en", "speech-en", "text-en", stored, "fixture (true rotation)",
                        metrics={"criterion": None}, extra_arrays=speech_arrays,
                        metadata={"src_steps": "unit,center,unit", "tgt_steps": "unit"})
    project.add_mapping("text-en__text-fr", "text-en", "text-fr", r_fr, "fixture (true rotation)",
                        metadata={"src_steps": "unit", "tgt_steps": "unit"})
    project.set_encoder("fixture-band-energy", {"bands": np.array([16], dtype=np.int64)}, ENCODER_CONFIG,
                        provenance={"note": "band energies; a stand-in for a trained speech encoder"})
    return project


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", help="new project folder")
    parser.add_argument("--words", type=int, default=40, help="speech types (≤ 40)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--projections", action="store_true", help="also cache PCA layouts")
    args = parser.parse_args(argv)
    project = build_fixture_project(args.out, args.words, seed=args.seed)
    if args.projections:
        from core.projection import compute_joint_projection

        for aligned in (False, True):
            compute_joint_projection(project, "pca", aligned)
    print(f"fixture project written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
