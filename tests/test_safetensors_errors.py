"""Issue 17, deliver 4: the front ends (core/frontends) and the speech evaluation
(core/pipeline/speech_eval.py) read and write safetensors through core.atomic, so a file-size limit
or full disk while writing, and a truncated or damaged file while reading, are one-line errors naming
the file (no safetensors traceback, nothing overwritten)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from core.embeddings import Embeddings
from core.errors import WordbridgeError
from core.vectors import save_vectors

ROOT = Path(__file__).resolve().parents[1]
SAVE_SSL_UNDER_A_LIMIT = """
import resource, sys, torch
resource.setrlimit(resource.RLIMIT_FSIZE, (32 * 1024, 32 * 1024))
from core.errors import WordbridgeError
from core.frontends.ssl_checkpoint import save_ssl_checkpoint
try:
    save_ssl_checkpoint(sys.argv[1], torch.nn.Linear(200, 200), {}, 0)
except WordbridgeError as exc:
    print("error:", exc, file=sys.stderr)
    sys.exit(2)
"""


def _truncated(path: Path) -> Path:
    from core.atomic import save_safetensors

    save_safetensors(path, {"embedding": torch.zeros(50, 8), "assign_centroids": torch.zeros(4, 8)},
                     metadata={"wordbridge_ssl": "{}"})
    path.write_bytes(path.read_bytes()[:60])
    return path


def test_an_ssl_checkpoint_past_the_file_size_limit_is_one_line(tmp_path):
    out = tmp_path / "ssl.safetensors"
    out.write_bytes(b"the previous checkpoint")
    done = subprocess.run([sys.executable, "-c", SAVE_SSL_UNDER_A_LIMIT, str(out)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "ssl.safetensors: file-size limit reached" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert out.read_bytes() == b"the previous checkpoint" and [p.name for p in tmp_path.iterdir()] == [out.name]


def test_truncated_front_end_weights_are_one_line_naming_the_file(tmp_path):
    from core.frontends import speech_embedding as se
    from core.frontends.ssl_checkpoint import read_checkpoint

    bad = _truncated(tmp_path / "weights.safetensors")
    for read in (read_checkpoint, lambda p: se.load_net(p)):
        with pytest.raises(WordbridgeError) as info:
            read(bad)
        message = str(info.value)
        assert "weights.safetensors" in message and "damaged or truncated safetensors file" in message
        assert "\n" not in message


def test_speech_eval_reads_a_truncated_segments_file_as_one_line(tmp_path):
    from core.errors import InputFileError
    from core.pipeline.speech_eval import segment_vectors

    (tmp_path / "type_space.json").write_text(json.dumps({"learner": "speech2vec"}))
    save_vectors(Embeddings(["a", "b"], np.eye(2, dtype=np.float32)), tmp_path / "types.vec")
    _truncated(tmp_path / "segments.safetensors")
    with pytest.raises(InputFileError, match="segments.safetensors: damaged or truncated safetensors file"):
        segment_vectors(tmp_path, np.arange(2))


def test_mappings_project_arrays_and_type_spaces_read_through_one_reader(tmp_path):
    """mapping.py, project/store.py and speech/type_space.py read safetensors (whole files and header
    metadata) through core.atomic (`read_safetensors`, `read_safetensors_metadata`): a truncated file
    is the same one line everywhere, naming the file."""
    import ast

    from core.alignment.mapping import Mapping
    from core.project.store import load_arrays, read_raw_header
    from core.speech.type_space import ASSIGN_FILE, ENCODER_FILE, INFO_FILE, TYPES_VEC, load_type_space

    for module in ("core/alignment/mapping.py", "core/project/store.py", "core/speech/type_space.py"):
        tree = ast.parse((ROOT / module).read_text())
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                    and (node.module or "").startswith("safetensors") for alias in node.names}
        assert not imported, f"{module} imports {imported} from safetensors itself"

    run = tmp_path / "run"
    run.mkdir()
    for name in (TYPES_VEC, ASSIGN_FILE):
        (run / name).write_text("")
    (run / INFO_FILE).write_text("{}")
    bad = _truncated(run / ENCODER_FILE)
    reads = [(Mapping.load, bad), (load_arrays, bad), (read_raw_header, bad), (load_type_space, run)]
    for read, arg in reads:
        with pytest.raises(WordbridgeError) as info:
            read(arg)
        message = str(info.value)
        assert f"{ENCODER_FILE}: damaged or truncated safetensors file (" in message, (read, message)
        assert "\n" not in message


def test_no_module_but_core_atomic_imports_safetensors():
    """Every safetensors file the program (core/, app/, scripts/, experiments/, main.py) reads or
    writes goes through core.atomic, the one module importing safetensors: its errors (a full disk,
    a file-size limit, a truncated file) are one line everywhere, scripts included."""
    import ast

    files = [ROOT / "main.py"] + [p for folder in ("core", "app", "scripts", "experiments")
                                  for p in sorted((ROOT / folder).rglob("*.py"))]
    offenders = []
    for path in files:
        if path == ROOT / "core" / "atomic.py" or "__pycache__" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = ([node.module or ""] if isinstance(node, ast.ImportFrom)
                     else [alias.name for alias in node.names] if isinstance(node, ast.Import) else [])
            if any(name == "safetensors" or name.startswith("safetensors.") for name in names):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert (ROOT / "scripts" / "convert_speech_embedding.py") in files
    assert not offenders, f"import safetensors outside core/atomic.py: {offenders}"
