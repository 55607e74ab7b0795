"""Two processes changing one project lose nothing (issue 17): the manifest lock across processes
(core/project/locking.py), checked with real processes racing."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from core.errors import WordbridgeError
from core.project import Project
from core.project.locking import manifest_lock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import child_process  # noqa: E402

WRITER = textwrap.dedent("""
    import sys
    import numpy as np
    sys.path.insert(0, {root!r})
    from core.embeddings import Embeddings
    from core.project import Project
    path, name, n_spaces, n_settings = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    p = Project.open(path)
    sys.stdout.write("ready\\n"); sys.stdout.flush(); sys.stdin.readline()  # start together
    rng = np.random.default_rng(0)
    for i in range(max(n_spaces, n_settings)):
        if i < n_spaces:
            e = Embeddings([f"w{{k}}" for k in range(4)], rng.standard_normal((4, 3)).astype(np.float32))
            p.add_space(f"{{name}}-{{i}}", e, kind="text", language="en")
        if i < n_settings:
            p.update_settings(**{{f"{{name}}-{{i}}": i}})
""")


def race(path: Path, n_spaces: int, n_settings: int) -> None:
    child_process.race(WRITER.format(root=str(ROOT)), [[str(path), name, str(n_spaces), str(n_settings)]
                                                       for name in ("a", "b")])


@pytest.mark.slow
def test_two_processes_adding_spaces_and_settings_lose_nothing(tmp_path):
    p = Project.create(tmp_path / "p", "race")
    race(p.root, n_spaces=15, n_settings=50)
    p = Project.open(p.root)
    assert sorted(s.id for s in p.spaces) == sorted(f"{n}-{i}" for n in "ab" for i in range(15))
    assert sorted(p.settings) == sorted(f"{n}-{i}" for n in "ab" for i in range(50))
    assert p.missing_files() == []
    assert len(list((p.root / "spaces").iterdir())) == 2 * 30  # no orphans: vectors + vocab each
    for space in p.spaces:
        p.space(space.id)


def test_the_lock_is_held_across_processes_and_a_waiting_writer_gives_up_in_one_line(tmp_path):
    p = Project.create(tmp_path / "p", "held")
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from core.project.locking import manifest_lock
        with manifest_lock({str(p.root)!r}):
            print("locked", flush=True)
            sys.stdin.readline()
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "locked\n"
        with pytest.raises(WordbridgeError, match="another process"):
            with manifest_lock(p.root, timeout=0.2):
                pass
    finally:
        holder.communicate("done\n", timeout=30)
    p.update_settings(after="free")  # released with the other process
    assert Project.open(p.root).settings == {"after": "free"}
    assert not (p.save_as(tmp_path / "copy").root / ".wordbridge.lock").exists()
