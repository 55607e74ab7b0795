"""A project's corpus stores and its runs table name no absolute local path (issue 17, Deliver 1):
the source folder is written relative to the project when inside it, else by its name plus a
fingerprint, so a rerun on this machine is still "up to date" and a same-named folder elsewhere is
not the same build; `project info --check` flags an older store's absolute paths."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

import main as entry
from core.corpus.build import build_feature_store
from core.corpus.feature_store import FeatureStore
from core.corpus.project_corpora import build_project_corpus
from core.errors import WordbridgeError
from core.project import Project
from tests.test_feature_store import make_corpus

torch.set_num_threads(1)


def project_bytes(root: Path) -> list[tuple[str, bytes]]:
    """Every file of the project folder (text files, the database and its side files): (name, bytes)."""
    found = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix != ".npy":
            found.append((path.relative_to(root).as_posix(), path.read_bytes()))
    return found


def assert_no_local_path(root: Path, *paths: Path) -> None:
    needles = {str(p).encode() for p in paths} | {str(Path(p).resolve()).encode() for p in paths}
    for name, data in project_bytes(root):
        for needle in needles:
            assert needle not in data, f"{name} holds {needle!r}"


@pytest.fixture
def project(tmp_path):
    return Project.create(tmp_path / "proj", "Corpus paths", languages=["en"])


def test_a_project_store_names_no_absolute_path_and_a_rerun_is_up_to_date(project, tmp_path):
    source = make_corpus(tmp_path / "data" / "tones")  # outside the project; its silent file is skipped
    result = build_project_corpus(project, source, "tones")
    assert result.n_segments == 15 and not result.up_to_date
    assert_no_local_path(project.root, tmp_path, source)
    store = FeatureStore.open(result.path)
    settings = store.header["build_settings"]
    assert settings["source"] == "tones" and len(settings["source_fingerprint"]) == 12
    assert store.metadata["source"] == "tones"
    assert store.table.audio[0] == "spk0/utt0.wav"  # relative to the source folder
    assert all(not a.startswith("/") for a in store.table.audio)
    run = project.runs("corpus-build")[-1]
    assert run.config["source"] == "tones" and run.config["source_fingerprint"] == settings["source_fingerprint"]
    assert "utt5.wav" in json.dumps(run.metrics)  # the skipped file is still named (relative)
    # the same folder again: up to date; the store unchanged
    again = build_project_corpus(project, source, "tones")
    assert again.up_to_date
    # the same corpus in another folder of the same name is another build
    other = tmp_path / "elsewhere" / "tones"
    shutil.copytree(source, other)
    with pytest.raises(WordbridgeError, match="other settings"):
        build_project_corpus(project, other, "tones")
    assert_no_local_path(project.root, tmp_path, source, other)
    assert entry.main(["project", "info", str(project.root), "--check"]) == 0


def test_a_source_inside_the_project_is_stored_relative_to_it(project, tmp_path):
    source = make_corpus(project.root / "audio" / "tones")
    result = build_project_corpus(project, source, "inner")
    header = FeatureStore.open(result.path).header
    assert header["build_settings"]["source"] == "audio/tones" and "source_fingerprint" not in header["build_settings"]
    assert project.runs("corpus-build")[-1].config["source"] == "audio/tones"
    assert_no_local_path(project.root, tmp_path)
    assert build_project_corpus(project, source, "inner").up_to_date


def test_a_killed_project_build_resumes_with_portable_work_files(project, tmp_path):
    source = make_corpus(tmp_path / "data" / "tones")

    class Crash(Exception):
        pass

    def crash(k):
        if k == 1:
            raise Crash()

    out = project.root / "corpora" / "tones"
    with pytest.raises(Crash):
        build_feature_store(source, out, "textgrid", shard_files=2, on_shard_done=crash)  # the CLI's way in
    assert (out / ".build" / "plan.json").is_file()
    assert_no_local_path(project.root, tmp_path, source)  # the unfinished build's files too
    result = build_feature_store(source, out, "textgrid", shard_files=2)
    assert result.shards_resumed == 2 and result.n_segments == 15
    plain = build_feature_store(source, tmp_path / "plain", "textgrid", shard_files=2)
    assert (FeatureStore.open(out).frames[:] == FeatureStore.open(plain.path).frames[:]).all()
    # a store outside any project keeps what it always recorded (the absolute source)
    assert FeatureStore.open(plain.path).header["build_settings"]["source"] == str(source.resolve())
    assert_no_local_path(project.root, tmp_path, source)


def _make_old_style(store: Path, source: Path) -> None:
    """Rewrite a store as builds before issue 17 wrote it: absolute source and audio paths."""
    header = json.loads((store / "header.json").read_text())
    settings = {k: v for k, v in header["build_settings"].items() if k != "source_fingerprint"}
    settings["source"] = str(source.resolve())
    header["build_settings"] = settings
    header["metadata"]["source"] = settings["source"]
    (store / "header.json").write_text(json.dumps(header))
    lines = [json.loads(line) for line in (store / "segments.jsonl").read_text().splitlines()]
    for row in lines:
        row["audio"] = str(source.resolve() / row["audio"])
    (store / "segments.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))


def test_check_flags_an_old_style_store_and_run_and_a_rerun_makes_them_portable(project, tmp_path, capsys):
    source = make_corpus(tmp_path / "data" / "tones")
    store = build_project_corpus(project, source, "tones").path
    _make_old_style(store, source)
    project.db.record_run("corpus-build", {"source": str(source.resolve()), "reader": "textgrid"})  # as before
    capsys.readouterr()
    assert entry.main(["project", "info", str(project.root), "--check"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert "corpus store corpora/tones: header.json" in err and "absolute local path" in err
    assert "run " in err and "(corpus-build): settings.source holds an absolute local path" in err
    # the old store is still the same build: a rerun is up to date and rewrites it portably
    again = build_project_corpus(project, source, "tones")
    assert again.up_to_date
    header = FeatureStore.open(store).header
    assert header["build_settings"]["source"] == "tones" and header["metadata"]["source"] == "tones"
    assert FeatureStore.open(store).table.audio[0] == "spk0/utt0.wav"
    from core.project.paths import corpus_store_problems

    assert corpus_store_problems(project.root) == []


def test_a_failed_build_and_a_cli_build_into_the_project_name_no_absolute_path(project, tmp_path, capsys):
    empty = tmp_path / "data" / "nothing"
    empty.mkdir(parents=True)
    (empty / "readme.txt").write_text("no audio here")
    with pytest.raises(WordbridgeError, match="no segments found"):
        build_project_corpus(project, empty, "nothing")
    run = project.runs("corpus-build")[-1]
    assert run.status == "failed" and run.metrics["error"].startswith("nothing: no segments found")
    # `corpus build --out <project>/corpora/<name>` writes the same portable store as the app
    source = make_corpus(tmp_path / "data" / "tones")
    out = project.root / "corpora" / "cli"
    assert entry.main(["corpus", "build", str(source), "--out", str(out), "--workers", "0", "--quiet"]) == 0
    assert FeatureStore.open(out).header["build_settings"]["source"] == "tones"
    assert entry.main(["corpus", "build", str(source), "--out", str(out), "--workers", "0", "--quiet"]) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert_no_local_path(project.root, tmp_path, source, empty)


def test_local_paths_helpers(tmp_path):
    from core.project.paths import LocalPaths, fingerprint, without_local_paths_in_text

    local = LocalPaths(tmp_path / "proj", [tmp_path / "data" / "tones", tmp_path / "proj" / "audio"])
    assert local.text(f"{tmp_path}/data/tones/spk0/a.wav: bad") == "tones/spk0/a.wav: bad"
    assert local.text(str(tmp_path / "proj" / "audio" / "b.wav")) == "audio/b.wav"
    assert local.text(f"{tmp_path}/data/tones2/x.wav") == "x.wav"  # not under a known folder: its name
    assert local.fingerprint == fingerprint(tmp_path / "data" / "tones") != fingerprint(tmp_path / "x" / "tones")
    assert LocalPaths(tmp_path / "proj", [tmp_path / "proj" / "audio"]).fingerprint is None
    assert without_local_paths_in_text("/home/u/c/a.wav: bad (3/4), see /tmp/x/log") == "a.wav: bad (3/4), see log"


def test_every_run_stores_its_paths_portably(project, tmp_path, capsys):
    store = project.root / "corpora" / "tones"
    run_id = project.record_run("train-speech", {"store": str(store), "data": str(tmp_path / "shared" / "data")})
    project.update_run(run_id, "failed", {"error": f"{tmp_path}/data/x.wav: unreadable audio"})
    run = project.runs()[-1]
    assert run.config == {"store": "corpora/tones", "data": "data"}
    assert run.metrics == {"error": "x.wav: unreadable audio"}
    assert_no_local_path(project.root, tmp_path)
    assert entry.main(["project", "info", str(project.root), "--check"]) == 0
