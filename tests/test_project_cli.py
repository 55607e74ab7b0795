"""`python main.py project ...`: init, info, add-space, add-mapping."""

from __future__ import annotations

import json

import numpy as np
import pytest
from safetensors.numpy import save_file

import main as entry
from core.embeddings import Embeddings
from core.project import Project
from core.vectors import save_vectors


def write_vectors(path, n: int, dim: int = 6, prefix: str = "w", seed: int = 0) -> Embeddings:
    rng = np.random.default_rng(seed)
    emb = Embeddings([f"{prefix}{i}" for i in range(n)], rng.standard_normal((n, dim)).astype(np.float32),
                     np.arange(n, 0, -1) * 3)
    save_vectors(emb, path)
    return emb


@pytest.fixture
def project_dir(tmp_path, capsys):
    assert entry.main(["project", "init", str(tmp_path / "proj"), "--name", "CLI test", "--language", "fr"]) == 0
    assert "created project 'CLI test'" in capsys.readouterr().out
    return tmp_path / "proj"


def test_init_and_info(project_dir, capsys):
    assert entry.main(["project", "info", str(project_dir)]) == 0
    out = capsys.readouterr().out
    assert "project: CLI test" in out and "languages: fr" in out and "spaces (0)" in out
    assert "recordings: 0, segments: 0, confirmed pairs: 0, runs: 0" in out
    assert entry.main(["project", "init", str(project_dir), "--name", "again"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "already exists" in err and err.count("\n") == 1


def test_add_space_then_info(project_dir, tmp_path, capsys):
    emb = write_vectors(tmp_path / "fr.vec", 40)
    (tmp_path / "fr.json").write_text(json.dumps({"command": "text-space", "corpus": "bible.tsv"}))
    assert entry.main(["project", "add-space", str(project_dir), str(tmp_path / "fr.vec"), "--language", "fr",
                       "--max-words", "30"]) == 0
    assert "added text space 'fr' (30 words × 6 dims)" in capsys.readouterr().out
    project = Project.open(project_dir)
    loaded = project.space("fr")
    assert loaded.words == emb.words[:30]
    np.testing.assert_allclose(loaded.vectors, emb.vectors[:30], rtol=1e-6)
    np.testing.assert_array_equal(loaded.counts, emb.counts[:30])
    assert project.space_entry("fr").provenance["made_by"]["corpus"] == "bible.tsv"

    write_vectors(tmp_path / "speech.vec", 10, prefix="s", seed=1)
    assert entry.main(["project", "add-space", str(project_dir), str(tmp_path / "speech.vec"), "--kind", "speech",
                       "--language", "fr", "--id", "sp", "--synthetic-note", "espeak-ng, 2 voices"]) == 0
    capsys.readouterr()
    assert entry.main(["project", "info", str(project_dir), "--check"]) == 0
    out = capsys.readouterr().out
    assert "SYNTHETIC SPEECH: espeak-ng, 2 voices" in out
    assert "sp" in out and "[synthetic]" in out and "checked 2 item(s)" in out

    assert entry.main(["project", "add-space", str(project_dir), str(tmp_path / "fr.vec"), "--language", "fr"]) == 2
    assert "already has a space 'fr'" in capsys.readouterr().err
    assert entry.main(["project", "add-space", str(project_dir), str(tmp_path / "none.vec"), "--language", "fr"]) == 2
    assert "none.vec" in capsys.readouterr().err


def test_add_mapping_from_run_folder_and_file(project_dir, tmp_path, capsys):
    write_vectors(tmp_path / "fr.vec", 20)
    write_vectors(tmp_path / "sp.vec", 10, prefix="s", seed=1)
    for name, kind in (("fr", "text"), ("sp", "speech")):
        assert entry.main(["project", "add-space", str(project_dir), str(tmp_path / f"{name}.vec"),
                           "--kind", kind, "--language", "fr"]) == 0
    run = tmp_path / "run-7"
    run.mkdir()
    W = np.linalg.qr(np.random.default_rng(3).standard_normal((6, 6)))[0].astype(np.float32)
    save_file({"W": W, "src.center_mean.0": np.ones(6, np.float32)}, str(run / "mapping.safetensors"),
              metadata={"format": "wordbridge-mapping-1", "src_steps": "unit,center,unit"})
    (run / "metrics.json").write_text(json.dumps({"method_used": "adversarial", "criterion": 0.61,
                                                   "criterion_history": [{"epoch": 1}]}))
    (run / "config.json").write_text(json.dumps({"method": "auto", "seed": 1}))
    assert entry.main(["project", "add-mapping", str(project_dir), str(run), "--source", "sp", "--target", "fr"]) == 0
    assert "added mapping 'sp-to-fr' (sp → fr, adversarial)" in capsys.readouterr().out
    project = Project.open(project_dir)
    m = project.mapping("sp-to-fr")
    np.testing.assert_array_equal(m.W, W)
    np.testing.assert_array_equal(m.arrays["src.center_mean.0"], np.ones(6))
    assert m.header["src_steps"] == "unit,center,unit"  # the run's own header is kept
    assert m.entry.metrics == {"method_used": "adversarial", "criterion": 0.61}  # scalars only
    assert m.metadata["run_config"] == {"method": "auto", "seed": 1}

    assert entry.main(["project", "add-mapping", str(project_dir), str(run / "mapping.safetensors"),
                       "--source", "sp", "--target", "fr", "--id", "direct", "--method", "procrustes"]) == 0
    assert Project.open(project_dir).mapping("direct").entry.method == "procrustes"
    capsys.readouterr()
    assert entry.main(["project", "info", str(project_dir)]) == 0
    assert "sp-to-fr             sp → fr  (adversarial)  criterion=0.61" in capsys.readouterr().out

    empty = tmp_path / "empty-run"
    empty.mkdir()
    assert entry.main(["project", "add-mapping", str(project_dir), str(empty), "--source", "sp", "--target", "fr"]) == 2
    assert "expected mapping.safetensors" in capsys.readouterr().err
    assert entry.main(["project", "add-mapping", str(project_dir), str(run), "--source", "sp", "--target", "en"]) == 2
    assert "no space 'en'" in capsys.readouterr().err


def test_info_on_broken_projects_exits_2_with_one_line(project_dir, tmp_path, capsys):
    manifest = project_dir / "wordbridge.json"
    good = manifest.read_text()
    manifest.write_text("{ not json")
    assert entry.main(["project", "info", str(project_dir)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "wordbridge.json:1: invalid manifest: bad JSON" in err
    assert err.count("\n") == 1 and "Traceback" not in err

    data = json.loads(good)
    data["schema_version"] = 3
    manifest.write_text(json.dumps(data))
    assert entry.main(["project", "info", str(project_dir)]) == 2
    assert "newer Wordbridge (schema 3 > 1)" in capsys.readouterr().err

    manifest.write_text(good)
    write_vectors(tmp_path / "fr.vec", 5)
    assert entry.main(["project", "add-space", str(project_dir), str(tmp_path / "fr.vec"), "--language", "fr"]) == 0
    (project_dir / "spaces" / "fr.vocab.txt").unlink()
    capsys.readouterr()
    assert entry.main(["project", "info", str(project_dir)]) == 2
    captured = capsys.readouterr()
    assert "spaces (1)" in captured.out
    assert "1 file(s) the project refers to are missing: spaces/fr.vocab.txt" in captured.err

    assert entry.main(["project", "info", str(tmp_path / "nowhere")]) == 2
    assert "no such project folder" in capsys.readouterr().err


def test_info_json(project_dir, capsys):
    assert entry.main(["project", "info", str(project_dir), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["manifest"]["name"] == "CLI test" and data["counts"]["runs"] == 0
