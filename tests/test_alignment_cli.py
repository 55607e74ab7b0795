"""`align` and `evaluate` end to end on tiny SYNTHETIC .vec files, and their bad-input messages."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from core.alignment.synthetic import noisy_rotation, structured_space
from core.cli import main
from core.embeddings import Embeddings
from core.vectors import save_vectors

torch.set_num_threads(1)
N, D = 600, 24
SMALL = ["--device", "cpu", "--quiet", "--init-vocab", str(N), "--selflearn-vocab", str(N),
         "--refine-max-rank", str(N), "--criterion-words", str(N)]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("vec")
    src = structured_space(N, D, seed=0)
    tgt, _ = noisy_rotation(src, noise=0.05, seed=1)
    save_vectors(src, folder / "src.vec")
    save_vectors(tgt, folder / "tgt.vec")
    wide = Embeddings(tgt.words, np.hstack([tgt.vectors, np.zeros((N, 8), np.float32)]))
    save_vectors(wide, folder / "wide.vec")
    (folder / "test.txt").write_text("".join(f"w{i} w{i}\n" for i in range(100, 400)), encoding="utf-8")
    (folder / "seed.txt").write_text("".join(f"w{i} w{i}\n" for i in range(0, 100)), encoding="utf-8")
    (folder / "nowhere.txt").write_text("cat chat\ndog chien\ndog chienne\n", encoding="utf-8")
    return folder


def test_align_writes_the_run_folder_and_evaluate_reads_it(files, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["align", str(files / "src.vec"), str(files / "tgt.vec"), "--method", "selflearn",
                 "--eval-dict", str(files / "test.txt"), "--out", str(out), *SMALL])
    assert code == 0
    for name in ("mapping.safetensors", "dictionary.txt", "metrics.json", "config.json", "align.log"):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["method"] == "selflearn" and metrics["fallback_used"] is False and metrics["seed"] == 0
    assert metrics["eval"]["csls"]["p@1"] >= 99.0 and metrics["eval"]["coverage"] == 1.0
    assert {"nn", "csls"} <= metrics["eval"].keys() and "criterion" in metrics and "total" in metrics["timings_s"]
    first = (out / "dictionary.txt").read_text().splitlines()[0].split()
    assert first[:2] == ["w0", "w0"] and float(first[2]) > 0
    assert json.loads((out / "config.json").read_text())["method"] == "selflearn"
    capsys.readouterr()
    code = main(["evaluate", str(files / "src.vec"), str(files / "tgt.vec"), "--mapping",
                 str(out / "mapping.safetensors"), "--eval-dict", str(files / "test.txt"),
                 "--device", "cpu", "--out", str(tmp_path / "eval.json")])
    assert code == 0
    assert "CSLS  P@1 100.0" in capsys.readouterr().out or json.loads((tmp_path / "eval.json").read_text())["csls"]["p@1"] >= 99


def test_supervised_run_reports_seed_dictionary_counts(files, tmp_path):
    out = tmp_path / "sup"
    code = main(["align", str(files / "src.vec"), str(files / "tgt.vec"), "--method", "supervised",
                 "--seed-dict", str(files / "seed.txt"), "--out", str(out), *SMALL])
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["seed_dict"]["pairs_found"] == 100 and metrics["method_used"] == "supervised"


def test_seed_dictionary_without_overlap_is_an_error_with_counts(files, tmp_path, capsys):
    code = main(["align", str(files / "src.vec"), str(files / "tgt.vec"), "--method", "supervised",
                 "--seed-dict", str(files / "nowhere.txt"), "--out", str(tmp_path / "x"), *SMALL])
    err = capsys.readouterr().err
    assert code == 2
    assert "nowhere.txt: the seed dictionary has no pair with both words in the spaces: 0 of 3 pairs and " \
           "0 of 2 source words found (source vocabulary 600 words, target vocabulary 600 words)" in err
    assert "Traceback" not in err


def test_mismatched_dimensions_without_reduction_is_an_error(files, tmp_path, capsys):
    code = main(["align", str(files / "src.vec"), str(files / "wide.vec"), "--no-reduce-dim",
                 "--method", "selflearn", "--out", str(tmp_path / "x"), *SMALL])
    err = capsys.readouterr().err
    assert code == 2
    assert "has 24-d vectors but" in err and "has 32-d: a linear map needs equal dimensions" in err


def test_supervised_without_seed_dictionary_is_an_error(files, tmp_path, capsys):
    code = main(["align", str(files / "src.vec"), str(files / "tgt.vec"), "--method", "supervised",
                 "--out", str(tmp_path / "x"), *SMALL])
    assert code == 2 and "error: --method supervised needs --seed-dict" in capsys.readouterr().err


def test_clipping_is_a_warning_not_an_error(files, tmp_path, capsys):
    out = tmp_path / "clip"
    code = main(["align", str(files / "src.vec"), str(files / "tgt.vec"), "--method", "selflearn",
                 "--out", str(out), *SMALL, "--init-vocab", "4000", "--max-selflearn-iterations", "2",
                 "--n-refinement", "0"])
    assert code == 0
    shown = capsys.readouterr()
    assert "init_vocab=4000 is larger than the vocabulary (600 words); clipped to 600" in shown.out + shown.err
    assert "clipped to 600" in (out / "align.log").read_text()


def test_evaluate_rejects_a_mapping_of_other_dimensions(files, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["align", str(files / "src.vec"), str(files / "tgt.vec"), "--method", "supervised",
                 "--seed-dict", str(files / "seed.txt"), "--out", str(out), *SMALL]) == 0
    capsys.readouterr()
    code = main(["evaluate", str(files / "src.vec"), str(files / "wide.vec"), "--mapping",
                 str(out / "mapping.safetensors"), "--eval-dict", str(files / "test.txt")])
    assert code == 2
    assert "the mapping expects a 24-d source and a 24-d target space, but got 24-d and 32-d" in capsys.readouterr().err
