"""core.selfsup: a HuBERT-style front end trained on a few synthetic files loads as `ssl:PATH`;
`train-frontend` gives one-line errors (exit 2) for a missing folder or no audio."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torchaudio")
pytest.importorskip("sklearn")

from core.audio import save_wav  # noqa: E402
from core.cli import main as cli_main  # noqa: E402
from core.selfsup.train import SelfSupConfig, model_frames, train_frontend  # noqa: E402

TINY = dict(clusters=4, layers=2, batch=2, kmeans_frames=500, warmup_steps=1)


@pytest.fixture()
def audio_dir(tmp_path):
    folder = tmp_path / "recordings"
    folder.mkdir()
    rng = np.random.default_rng(0)
    t = np.arange(int(16000 * 1.2)) / 16000
    for i in range(3):
        x = 0.3 * np.sin(2 * np.pi * (180 + 120 * i) * t) * (1 + np.sin(2 * np.pi * 3 * t)) / 2
        save_wav(folder / f"take{i}.wav", (x + 0.03 * rng.standard_normal(len(t))).astype(np.float32))
    (folder / "notes.txt").write_text("not audio")
    return folder


def test_trained_model_loads_as_ssl_frontend(audio_dir, tmp_path):
    from core.frontends import make_frontend, parse_frontend_spec

    out = tmp_path / "model.safetensors"
    summary = train_frontend(audio_dir, out, minutes=5, max_steps=2, cfg=SelfSupConfig(**TINY))
    assert summary["steps"] == 2 and summary["files"] == 3
    assert np.isfinite(summary["loss_last50"])
    side = json.loads((tmp_path / "model.safetensors.json").read_text())
    assert side["layer"] == 2 and side["training"]["steps"] == 2

    fe = parse_frontend_spec(f"ssl:{out}")
    assert fe.dim == 192 and fe.frame_rate == 50 and fe.layer == 2
    signal = np.random.default_rng(1).standard_normal(16000).astype(np.float32) * 0.1
    frames = fe.frames(signal)
    assert frames.shape == (model_frames(16000, SelfSupConfig().convs), 192) == (49, 192)
    assert np.isfinite(frames).all()
    again = make_frontend(fe.config())  # a stored space rebuilds the same front end
    assert np.allclose(again.frames(signal), frames, atol=1e-5)
    spans = fe.segment_frames(signal, [(0.1, 0.5), (2.0, 3.0)])
    assert spans[0].shape[1] == 192 and len(spans[0]) > 0 and spans[1].shape == (0, 192)


def test_cli_trains_and_reports(audio_dir, tmp_path, capsys):
    out = tmp_path / "m.safetensors"
    code = cli_main(["train-frontend", str(audio_dir), "--out", str(out), "--max-steps", "1", "--clusters", "4",
                     "--layers", "2", "--batch", "2", "--quiet"])
    assert code == 0 and out.is_file()
    assert f"ssl:{out}" in capsys.readouterr().out


@pytest.mark.parametrize("case", ["missing", "empty", "no-audio", "bad-out"])
def test_cli_bad_input_is_one_line(tmp_path, capsys, case):
    folder = tmp_path / "in"
    out = tmp_path / "m.safetensors"
    if case != "missing":
        folder.mkdir()
    if case == "no-audio":
        (folder / "readme.txt").write_text("x")
    if case == "bad-out":
        out = tmp_path / "m.pt"
    code = cli_main(["train-frontend", str(folder), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and err.startswith("error:"), err
    assert {"missing": "folder not found", "empty": "no audio files", "no-audio": "no audio files",
            "bad-out": ".safetensors"}[case] in err
    assert not out.exists()


def test_hour_cap_reads_every_speaker_folder(tmp_path):
    """--max-hours takes files from each sub-folder in turn: a cap of two files' worth reads one file
    of each speaker, not the first speaker's two (a linguist's recordings are one folder a speaker)."""
    from core.selfsup.train import interleave_folders, read_folder

    t = np.arange(16000) / 16000
    for speaker in ("anna", "bruno"):
        (tmp_path / speaker).mkdir()
        for i in range(3):
            save_wav(tmp_path / speaker / f"take{i}.wav", (0.2 * np.sin(2 * np.pi * 200 * t)).astype(np.float32))
    signals, names = read_folder(tmp_path, max_hours=2 / 3600)
    assert [Path(n).parts[-2:] for n in names] == [("anna", "take0.wav"), ("bruno", "take0.wav")]
    assert len(signals) == 2 and all(len(s) == 16000 for s in signals)
    order = interleave_folders([tmp_path / "b/x.wav", tmp_path / "a/2.wav", tmp_path / "a/1.wav", tmp_path / "c.wav"])
    assert [p.relative_to(tmp_path).as_posix() for p in order] == ["a/1.wav", "b/x.wav", "c.wav", "a/2.wav"]
