"""Issue 17, deliver 5: bad data is refused (or skipped with a reason) where it enters, with one
line naming the file (exit code 2 on the command line), instead of failing late or with a traceback."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from safetensors.numpy import save_file

from core.audio import load_audio
from core.cli import main
from core.corpus.textgrid import read_textgrid_corpus
from core.corpus.unsegmented import read_chunks
from core.embeddings import Embeddings
from core.errors import InputFileError, WordbridgeError
from core.project import Project
from core.segments import SegmentTable
from core.vectors import load_vectors, save_vectors

SR = 16000


def _one_line_error(capsys, *parts: str) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    for part in parts:
        assert part in err, err
    return err


def _textgrid(path: Path, intervals: list[tuple[float, float, str]], end: float) -> None:
    from praatio import textgrid

    tg = textgrid.Textgrid()
    tg.addTier(textgrid.IntervalTier("words", intervals, 0, end))
    tg.save(str(path), format="long_textgrid", includeBlankSpaces=True)


def test_textgrid_labels_with_spaces_or_line_breaks_are_skipped_with_a_reason(tmp_path):
    sf.write(tmp_path / "a.wav", np.zeros(SR, np.float32), SR)
    _textgrid(tmp_path / "a.TextGrid", [(0.0, 0.3, "hello"), (0.3, 0.6, "ice cream"), (0.6, 0.9, "two\nlines")], 1.0)
    table, report = read_textgrid_corpus(tmp_path)
    assert table.label == ["hello"]
    assert report.skipped["label with spaces or line breaks"] == 2
    assert "'ice cream'" in report.examples["label with spaces or line breaks"][0]


def test_nan_samples_are_refused_naming_the_file(tmp_path):
    samples = np.zeros(SR, np.float32)
    samples[100] = np.nan
    sf.write(tmp_path / "nan.wav", samples, SR, subtype="FLOAT")
    with pytest.raises(InputFileError, match=r"nan.wav: 1 sample\(s\) are NaN or infinite") as info:
        load_audio(tmp_path / "nan.wav")
    assert info.value.reason == "non-finite audio"  # corpus readers skip it under this reason


def test_a_vec_header_larger_than_the_file_is_refused_before_allocating(tmp_path, capsys):
    for header in (b"900000000000 300\n", b"2 900000000000\n"):
        (tmp_path / "huge.vec").write_bytes(header + b"a 0.1 0.2\nb 0.3 0.4\n")
        with pytest.raises(InputFileError, match="huge.vec:1: bad header: .* need at least"):
            load_vectors(tmp_path / "huge.vec")
    assert main(["project", "init", str(tmp_path / "p"), "--name", "p"]) == 0
    assert main(["project", "add-space", str(tmp_path / "p"), str(tmp_path / "huge.vec"), "--language", "x"]) == 2
    _one_line_error(capsys, "huge.vec:1: bad header")


def test_a_counts_value_above_int64_is_refused(tmp_path):
    save_vectors(Embeddings(["a", "b"], np.eye(2, dtype=np.float32)), tmp_path / "v.vec", write_counts=False)
    (tmp_path / "v.counts").write_text(f"a 5\nb {2**64}\n")
    with pytest.raises(InputFileError, match=r"v.counts:2: count 18446744073709551616 is out of range"):
        load_vectors(tmp_path / "v.vec")


def _mapping_file(path: Path, W: np.ndarray, **header: str) -> Path:
    metadata = {"format": "wordbridge-mapping-1", "src_steps": "unit", "tgt_steps": "unit", "meta": "{}", **header}
    save_file({"W": W}, str(path), metadata={k: v for k, v in metadata.items() if v is not None})
    return path


@pytest.mark.parametrize("header, message", [
    ({"meta": "{not json"}, "header 'meta' is not JSON"),
    ({"src_steps": None}, "the header lacks 'src_steps'"),
    ({"tgt_steps": "unit,whiten"}, "unknown step(s) whiten"),
    ({"src_steps": "unit,center,unit"}, "1 centring step(s) but the file holds 0 mean(s)"),
])
def test_a_mapping_with_a_bad_header_is_an_error_on_the_command_line(tmp_path, capsys, header, message):
    emb = Embeddings(["a", "b", "c"], np.eye(3, dtype=np.float32))
    save_vectors(emb, tmp_path / "s.vec")
    (tmp_path / "d.txt").write_text("a a\nb b\n")
    path = _mapping_file(tmp_path / "m.safetensors", np.eye(3, dtype=np.float32), **header)
    assert main(["evaluate", str(tmp_path / "s.vec"), str(tmp_path / "s.vec"), "--mapping", str(path),
                 "--eval-dict", str(tmp_path / "d.txt"), "--device", "cpu"]) == 2
    _one_line_error(capsys, "m.safetensors: ", message)


def test_evaluate_refuses_a_nan_map(tmp_path, capsys):
    emb = Embeddings(["a", "b", "c"], np.eye(3, dtype=np.float32))
    save_vectors(emb, tmp_path / "s.vec")
    (tmp_path / "d.txt").write_text("a a\nb b\n")
    W = np.eye(3, dtype=np.float32)
    W[1, 1] = np.nan
    path = _mapping_file(tmp_path / "m.safetensors", W)
    assert main(["evaluate", str(tmp_path / "s.vec"), str(tmp_path / "s.vec"), "--mapping", str(path),
                 "--eval-dict", str(tmp_path / "d.txt"), "--device", "cpu"]) == 2
    _one_line_error(capsys, "m.safetensors: array 'W' holds NaN or infinite values")


@pytest.mark.parametrize("content, message", [
    ('{"epochs": "ten"}', "epochs must be a whole number, not 'ten'"),
    ('{"lr": true}', "lr must be a number, not True"),
    ('{"learner": 3}', "learner must be text, not 3"),
    ('[1, 2]', "must hold a table of settings"),
])
def test_a_config_file_with_a_wrong_type_is_one_line(tmp_path, capsys, content, message):
    (tmp_path / "c.json").write_text(content)
    assert main(["train-speech", str(tmp_path / "no-store"), "--out", str(tmp_path / "run"),
                 "--config-file", str(tmp_path / "c.json")]) == 2
    _one_line_error(capsys, "c.json", message)


def test_a_damaged_run_config_is_one_line(tmp_path):
    from core.speech.config import SpeechConfig
    from core.speech.runner import check_run_dir

    for content, message in (("{ damaged", "damaged run config, not JSON"), ('{"speech": 3}', "expected a JSON object")):
        (tmp_path / "config.json").write_text(content)
        with pytest.raises(InputFileError, match=message):
            check_run_dir(tmp_path, SpeechConfig(), resume=True)


@pytest.mark.parametrize("line, message", [
    (b'[1, 2]\n', "not a JSON object"),
    (b'{"audio": "a.wav", "start": 0, "end": 1, "label": 7, "speaker": null, "utterance": "u", "position": 0}\n',
     "label must be text or null"),
    (b'{"audio": "a.wav", "start": 1, "end": NaN, "label": "x", "speaker": null, "utterance": "u", "position": 0}\n',
     "are not a span"),
    (b'{"audio": "a.wav", "start": 0, "end": 1, "label": "x", "speaker": null, "utterance": "u", "position": 1e400}\n',
     "bad segment line"),
    (b'{"audio": "a\xff.wav"}\n', "not UTF-8"),
])
def test_a_damaged_segment_table_is_one_line(tmp_path, line, message):
    (tmp_path / "segments.jsonl").write_bytes(line)
    with pytest.raises(InputFileError, match=message):
        SegmentTable.load(tmp_path / "segments.jsonl")


def test_an_audio_file_name_that_is_not_utf8_is_skipped_and_the_read_goes_on(tmp_path):
    folder = os.fsencode(tmp_path)
    sf.write(tmp_path / "good.wav", np.random.default_rng(0).standard_normal(SR).astype(np.float32) * 0.1, SR)
    with open(os.path.join(folder, b"bad\xff.wav"), "wb") as fh:
        fh.write((tmp_path / "good.wav").read_bytes())
    table, report = read_chunks(tmp_path, chunk_seconds=0.5)
    assert report.files_used == 1 and report.skipped["file name not UTF-8"] == 1
    assert {Path(a).name for a in table.audio} == {"good.wav"}
    json.dumps(table.audio)  # every stored name is valid text


def _project_with_space(tmp_path) -> Path:
    root = tmp_path / "p"
    project = Project.create(root, "p")
    project.add_space("s", Embeddings(["a", "b"], np.eye(2, dtype=np.float32)), kind="text", language="x")
    return root


def test_a_deleted_database_is_an_error_not_recreated(tmp_path, capsys):
    root = _project_with_space(tmp_path)
    (root / "project.sqlite").unlink()
    with pytest.raises(InputFileError, match="project.sqlite: the project's database is missing"):
        Project.open(root)
    assert not (root / "project.sqlite").exists()
    assert main(["project", "info", str(root), "--check"]) == 2
    _one_line_error(capsys, "database is missing")


def test_nan_in_a_stored_space_is_caught_on_load_and_by_check(tmp_path, capsys):
    root = _project_with_space(tmp_path)
    path = next((root / "spaces").glob("*.safetensors"))
    from core.project.store import load_arrays, save_arrays

    arrays, metadata = load_arrays(path)
    arrays["vectors"][0, 0] = np.nan
    save_arrays(path, arrays, metadata)
    with pytest.raises(WordbridgeError, match="holds 1 NaN or infinite value"):
        Project.open(root).space("s")
    assert main(["project", "info", str(root), "--check"]) == 2
    _one_line_error(capsys, path.name, "NaN or infinite")
