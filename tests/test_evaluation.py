"""P@k with NN and CSLS, coverage, and the induced-dictionary export, on hand-made spaces."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.alignment.mapping import Mapping, SidePreprocess
from core.dictionary import load_dictionary
from core.embeddings import Embeddings
from core.errors import WordbridgeError
from core.evaluation import evaluate_mapping, export_induced_dictionary, format_metrics, precision_at_k

torch.set_num_threads(1)


def identity_mapping(dim: int) -> Mapping:
    return Mapping(np.eye(dim, dtype=np.float32), SidePreprocess("none", []), SidePreprocess("none", []), {})


@pytest.fixture
def spaces():
    # target words on the axes; each source word sits close to one target word
    tgt = Embeddings(["t0", "t1", "t2", "t3"], np.eye(4, dtype=np.float32))
    src = Embeddings(["a", "b", "c"], np.array([[1, 0.2, 0, 0], [0, 0.1, 1, 0], [0, 0, 0.3, 1]], np.float32))
    return src, tgt


def test_any_gold_translation_counts_and_coverage_counts_missing_words(spaces):
    src, tgt = spaces
    pairs = [("a", "t3"), ("a", "t0"),        # a → t0 is right (second of two golds)
             ("b", "t1"),                      # b → t2 is wrong at 1, t1 is its second neighbour
             ("c", "t3"),                      # right
             ("zzz", "t0"), ("c", "missing")]  # dropped: words outside the spaces
    metrics = evaluate_mapping(src, tgt, identity_mapping(4), pairs, backend="torch", device="cpu")
    assert metrics["nn"]["p@1"] == pytest.approx(200 / 3)
    assert metrics["nn"]["p@5"] == pytest.approx(100.0)
    assert metrics["n_words"] == 3
    assert metrics["pairs_total"] == 6 and metrics["pairs_found"] == 4
    assert metrics["src_words_total"] == 4 and metrics["src_words_found"] == 3
    assert metrics["coverage"] == pytest.approx(0.75)
    assert set(metrics["csls"]) == {"p@1", "p@5", "p@10"}
    assert "coverage 75.0% (3 of 4 source words" in format_metrics(metrics)


def test_csls_demotes_a_hub():
    # every query is nearest (by cosine) to the hub h; CSLS should prefer the specific answers
    rng = np.random.default_rng(0)
    hub = np.ones(8) / np.sqrt(8)
    own = np.linalg.qr(rng.standard_normal((8, 8)))[0][:6]
    tgt = np.vstack([hub, own]).astype(np.float32)
    src = (0.75 * hub + 0.6 * own).astype(np.float32)
    gold = np.stack([np.arange(6), np.arange(1, 7)], 1)
    result = precision_at_k(src, tgt, gold, ks=(1,), knn=3, backend="torch", device="cpu")
    assert result["nn"]["p@1"] < result["csls"]["p@1"]
    assert result["csls"]["p@1"] == 100.0


def test_no_overlap_is_a_user_error(spaces):
    src, tgt = spaces
    with pytest.raises(WordbridgeError, match=r"0 of 2 pairs, 0 of 2 source words found"):
        evaluate_mapping(src, tgt, identity_mapping(4), [("x", "t0"), ("y", "t1")], device="cpu")


def test_export_writes_muse_pairs_with_scores(spaces, tmp_path):
    src, tgt = spaces
    export_induced_dictionary(np.array([[0, 0], [2, 3]]), np.array([0.5, -0.25]), src, tgt, tmp_path / "d.txt")
    assert (tmp_path / "d.txt").read_text().splitlines() == ["a t0 0.500000", "c t3 -0.250000"]
    assert load_dictionary(tmp_path / "d.txt") == [("a", "t0"), ("c", "t3")]
