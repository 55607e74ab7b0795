"""Issue 17, deliver 3: an `align` run folder is replaced as a whole (a killed rerun never mixes with
the older run), `project add-mapping` takes provenance from the mapping's own header, and --out is
checked before any computing. Real processes (kill -9) where the issue says so."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from core.alignment.synthetic import noisy_rotation, structured_space
from core.cli import main
from core.project import Project
from core.project.run_import import read_run_mapping
from core.vectors import save_vectors

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[1]
N, D = 300, 16
SMALL = ["--device", "cpu", "--quiet", "--init-vocab", str(N), "--selflearn-vocab", str(N),
         "--refine-max-rank", str(N), "--criterion-words", str(N)]
FAST_SELFLEARN = ["--method", "selflearn", "--restarts", "1", "--max-selflearn-iterations", "2", "--n-refinement", "0"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("vec")
    src = structured_space(N, D, seed=0)
    tgt, _ = noisy_rotation(src, noise=0.05, seed=1)
    save_vectors(src, folder / "src.vec")
    save_vectors(tgt, folder / "tgt.vec")
    (folder / "seed.txt").write_text("".join(f"w{i} w{i}\n" for i in range(0, 60)), encoding="utf-8")
    return folder


def _align(files, out, *extra) -> list[str]:
    return ["align", str(files / "src.vec"), str(files / "tgt.vec"), "--out", str(out), *SMALL, *extra]


def _supervised(files, out) -> list[str]:
    return _align(files, out, "--method", "supervised", "--seed-dict", str(files / "seed.txt"))


def _header_meta(path: Path) -> dict:
    from safetensors import safe_open

    with safe_open(str(path), framework="np") as fh:
        return json.loads(fh.metadata()["meta"])


def test_a_rerun_killed_after_writing_its_map_leaves_the_previous_run_whole(files, tmp_path):
    out = tmp_path / "run"
    assert main(_align(files, out, *FAST_SELFLEARN)) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    # the rerun (supervised) is killed by SIGKILL right after its mapping file was written
    code = ("import os, signal, sys, core.evaluation as e\n"
            "e.export_induced_dictionary = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)\n"
            "from core.cli import main\nsys.exit(main(sys.argv[1:]))\n")
    killed = subprocess.run([sys.executable, "-c", code, *_supervised(files, out)], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert killed.returncode == -9, killed.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # the old run, whole
    assert _header_meta(out / "mapping.safetensors")["method_used"] == "selflearn"

    # the next run cleans what the killed one left and replaces the folder as a whole
    assert main(_supervised(files, out)) == 0
    assert _header_meta(out / "mapping.safetensors")["method_used"] == "supervised"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["method_used"] == "supervised" and metrics["run_id"] == _header_meta(out / "mapping.safetensors")["run_id"]
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_add_mapping_reads_provenance_from_the_mapping_header_not_a_stale_metrics_file(files, tmp_path, capsys):
    sup, old = tmp_path / "sup", tmp_path / "old"
    assert main(_supervised(files, sup)) == 0
    assert main(_align(files, old, *FAST_SELFLEARN)) == 0
    shutil.copy(old / "metrics.json", sup / "metrics.json")  # what a killed rerun used to leave
    shutil.copy(old / "config.json", sup / "config.json")
    header = _header_meta(sup / "mapping.safetensors")

    project_dir = tmp_path / "project"
    assert main(["project", "init", str(project_dir), "--name", "p"]) == 0
    for side in ("src", "tgt"):
        assert main(["project", "add-space", str(project_dir), str(files / f"{side}.vec"), "--id", side,
                     "--language", "xx"]) == 0
    assert main(["project", "add-mapping", str(project_dir), str(sup), "--source", "src", "--target", "tgt"]) == 0
    entry = Project.open(project_dir, read_only=True).manifest.mappings[0]
    assert entry.method == "supervised"
    assert entry.metrics["supervised"] is True and entry.metrics["criterion"] == header["criterion"]
    assert entry.metrics["run_id"] == header["run_id"] and "fallback_used" not in entry.metrics

    # a map written before run ids: the old metrics are used only when method and criterion agree
    found = read_run_mapping(old)
    assert found.metrics["method_used"] == "selflearn" and found.method == "selflearn"


def test_align_checks_out_before_computing(files, tmp_path, capsys, monkeypatch):
    import core.alignment

    def no_compute(*args, **kwargs):
        raise AssertionError("align computed before checking --out")

    monkeypatch.setattr(core.alignment, "align", no_compute)
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    for out, message in ((a_file, "--out is an existing file"),
                         (a_file / "run", "cannot create the run folder's parent")):
        assert main(_supervised(files, out)) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    assert main(_supervised(files, mine)) == 2
    assert "holds files this command does not write (notes.txt)" in capsys.readouterr().err
    assert (mine / "notes.txt").read_text() == "keep me"


def test_two_runs_into_one_folder_are_refused_not_mixed(files, tmp_path, capsys):
    from filelock import FileLock

    out = tmp_path / "run"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from filelock import FileLock\n"
                               f"l = FileLock({str(tmp_path / '.run.lock')!r}); l.acquire(); print('held', flush=True); "
                               "time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert main(_supervised(files, out)) == 2
        assert "another run is writing this folder" in capsys.readouterr().err
    finally:
        holder.kill()
        holder.wait()
    assert not out.exists()
    FileLock(str(tmp_path / ".run.lock"))  # free again
    assert main(_supervised(files, out)) == 0
