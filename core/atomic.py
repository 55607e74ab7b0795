"""Atomic file writes: write to a temporary file in the same folder, fsync, then rename.

A crash or a full disk never leaves a half-written file under the final name; the previous
version stays intact. A full disk, a quota, a file-size limit (`ulimit -f`, errno 27) or a
read-only folder becomes a one-line `WordbridgeError`, also when safetensors reports it in its own
error type: every safetensors file is written by `save_safetensors` / `write_safetensors` and read
by `load_safetensors` (its header metadata by `read_safetensors_metadata`), which turn safetensors'
errors (and a truncated file) into those lines. `atomic_file_set` replaces several files as a set.

Before a big write the free space is checked (`check_free_space`, one line naming the bytes needed
and free): `atomic_path(..., expected_bytes=)` (WAV files), every safetensors file (checkpoints,
models, project arrays, speech type spaces), `core.vectors.save_vectors` (text and speech spaces),
Save As and the feature store's features file.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import tempfile
from pathlib import Path
from typing import IO, Iterator

from core.errors import WordbridgeError

_UMASK = os.umask(0)
os.umask(_UMASK)


def check_free_space(folder: str | os.PathLike, needed: int, what: str,
                     hint: str = "free some space or write elsewhere") -> None:
    """Refuse, in one line (a `WordbridgeError`: exit 2), writing `needed` bytes of `what` into
    `folder` (or the nearest existing folder above it) when its disk has less free space than that.
    A disk whose free space cannot be read is not refused here (the write reports a full disk)."""
    probe = Path(folder)
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        free = shutil.disk_usage(probe).free
    except OSError:
        return
    if free < needed:
        raise WordbridgeError(f"{folder}: not enough free disk space for {what}: it needs {needed:,} bytes "
                              f"({needed / 2**30:.2f} GiB), {free:,} bytes ({free / 2**30:.2f} GiB) are free; {hint}")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, durable: bool = True, expected_bytes: int | None = None) -> Iterator[Path]:
    """Yield a temporary path next to `path`; on success it replaces `path` atomically. `durable`
    False skips the fsyncs: still never half a file, but a power cut may lose the change (for small
    files written on the GUI thread, where an fsync can take ~100 ms). `expected_bytes` (the size
    about to be written) is checked against the free space first (`check_free_space`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if expected_bytes is not None:
        check_free_space(path.parent, expected_bytes, path.name)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; give the usual permissions
        if durable:
            _fsync_file(tmp_path)
        os.replace(tmp_path, path)
        if durable:
            _fsync_dir(path.parent)
    except OSError as exc:
        tmp_path.unlink(missing_ok=True)
        raise _as_user_error(path, exc) from exc
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8",
                durable: bool = True) -> Iterator[IO]:
    """Open a temporary file for writing that atomically replaces `path` when the block ends."""
    if "b" in mode:
        encoding = None
    with atomic_path(path, durable) as tmp:
        with open(tmp, mode, encoding=encoding) as fh:
            yield fh


# A set of files replaced together (text space .vec + .counts + .json, a feature store's arrays):
# every member is written to ".<name>.set-<pid>-<token>.tmp"; when all are complete a journal
# ".<first name>.set-<pid>-<token>.commit" lists the renames, then they run and the journal goes.
# `.<member>.set-<host>-<pid>-<token>.tmp|commit`: <host> (8 hex digits, a hash of the host name)
# says which machine's process <pid> is; names without it (older writers) are judged as this machine's
_SET_TEMP = re.compile(r"^\.(?P<name>.+)\.set-(?:(?P<host>[0-9a-f]{8})-)?(?P<pid>\d+)-(?P<token>[A-Za-z0-9_]+)"
                       r"\.(?P<kind>tmp|commit)$")
HOST_TAG = hashlib.sha256(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:8]


@contextlib.contextmanager
def atomic_file_set(paths, remove=()) -> Iterator[list[Path]]:
    """Yield one temporary path per path of `paths` (all in one folder); when the block succeeds,
    they replace `paths` as a set, and the files of `remove` (what the old set had and the new one
    has not) are deleted.

    Until every member is written, nothing of the old set is touched: a full disk, a file-size
    limit or an exception while writing any member leaves all old files as they were ("nothing was
    overwritten" is then true) and deletes the temporary files. Once all are written a commit
    journal is made durable and the renames run; a process killed between two renames leaves the
    journal, and the next `atomic_file_set` over those names (or `finish_file_sets`, which readers
    call) completes the renames. Temporary files of writers that are no longer running are
    removed there too: a writer is named by its machine and process id (`HOST_TAG`, pid); a process
    of this machine that has ended is dead, a writer on another machine (a project on a shared
    disk) is never judged from here, its files are left to it.
    """
    finals = [Path(p) for p in paths]
    folder = finals[0].parent
    if any(p.parent != folder for p in finals) or len({p.name for p in finals}) != len(finals):
        raise ValueError("atomic_file_set: the files of a set lie in one folder, each named once")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _as_user_error(finals[0], exc) from exc
    finish_file_sets(folder, [p.name for p in finals])
    token = secrets.token_hex(4)
    writer = f"{HOST_TAG}-{os.getpid()}"
    temps = [folder / f".{p.name}.set-{writer}-{token}.tmp" for p in finals]
    journal = folder / f".{finals[0].name}.set-{writer}-{token}.commit"
    try:
        for tmp in temps:
            with open(tmp, "xb"):
                pass
        yield temps
        for tmp in temps:
            os.chmod(tmp, 0o666 & ~_UMASK)
            _fsync_file(tmp)
        with open(journal, "x", encoding="utf-8") as fh:
            json.dump({"rename": [[t.name, p.name] for t, p in zip(temps, finals)],
                       "remove": [Path(r).name for r in remove]}, fh)
            fh.flush()
            os.fsync(fh.fileno())
        _fsync_dir(folder)
    except OSError as exc:
        for tmp in temps + [journal]:
            tmp.unlink(missing_ok=True)
        raise _as_user_error(finals[0], exc) from exc
    except BaseException:
        for tmp in temps + [journal]:
            tmp.unlink(missing_ok=True)
        raise
    # the new set is complete and recorded: from here on it replaces the old one, now or at the next start
    try:
        _commit(folder, journal)
    except OSError as exc:
        raise WordbridgeError(f"{finals[0]}: the new files are written but could not all be put in place "
                              f"({exc.strerror or exc}); the next write or read of {finals[0].name} "
                              "finishes replacing them") from None


def _commit(folder: Path, journal: Path) -> None:
    plan = json.loads(journal.read_text(encoding="utf-8"))
    for tmp, final in plan.get("rename", []):
        if (folder / tmp).exists():
            os.replace(folder / tmp, folder / final)
    for name in plan.get("remove", []):
        (folder / name).unlink(missing_ok=True)
    _fsync_dir(folder)
    journal.unlink()
    _fsync_dir(folder)


def _running(pid: int, host: str | None = None) -> bool:
    """Whether the writer (process `pid` of the machine tagged `host`; None: this one) may still be
    running: a process of another machine cannot be checked from here, so it counts as running."""
    if host is not None and host != HOST_TAG:
        return True
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: someone else's process
        return True
    return True


def finish_file_sets(folder: str | os.PathLike, names=None) -> list[str]:
    """Complete the renames of file sets whose writer died between two renames, and delete the
    temporary files of sets whose writer died before committing (for the members named `names`,
    or every set in `folder`). Returns the names of the files removed. A read-only folder is left
    as it is."""
    folder = Path(folder)
    wanted = None if names is None else set(names)
    found = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            match = _SET_TEMP.match(entry.name)
            if match and (wanted is None or match["name"] in wanted) and not _running(int(match["pid"]), match["host"]):
                found.append((match, Path(entry.path)))
    removed = []
    commits = [path for match, path in found if match["kind"] == "commit"]
    for journal in commits:
        try:
            _commit(folder, journal)
        except ValueError:  # killed while writing the journal: the commit never began
            with contextlib.suppress(OSError):
                journal.unlink()
        except OSError:
            pass
    for match, path in found:
        if match["kind"] == "tmp" and path.exists():
            with contextlib.suppress(OSError):
                path.unlink()
                removed.append(path.name)
    return removed


def write_text(path: str | os.PathLike, text: str, durable: bool = True) -> None:
    """Atomically write a UTF-8 text file (`durable`: see atomic_path)."""
    with atomic_open(path, "w", durable=durable) as fh:
        fh.write(text)


def write_json(path: str | os.PathLike, obj, durable: bool = True) -> None:
    """Atomically write `obj` as indented UTF-8 JSON (`durable`: see atomic_path)."""
    write_text(path, json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=False) + "\n", durable)


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def save_safetensors(path: str | os.PathLike, tensors: dict, metadata: dict[str, str] | None = None) -> None:
    """Atomically write `tensors` (numpy arrays or torch tensors, not mixed) as a safetensors file."""
    with atomic_path(path) as tmp:
        write_safetensors(tmp, tensors, metadata, shown_as=path)


def write_safetensors(tmp: str | os.PathLike, tensors: dict, metadata: dict[str, str] | None = None,
                      shown_as: str | os.PathLike | None = None) -> None:
    """Write a safetensors file at `tmp` (a temporary path the caller renames); safetensors' own
    errors for a full disk, a quota, a file-size limit or a read-only folder become one line."""
    from safetensors import SafetensorError

    torch_tensors = any(type(v).__module__.startswith("torch") for v in tensors.values())
    size = sum(int(v.nbytes) if hasattr(v, "nbytes") else int(v.numel() * v.element_size()) for v in tensors.values())
    header = 64 + sum(len(str(k)) + 96 for k in tensors) + sum(len(k) + len(v) + 8 for k, v in (metadata or {}).items())
    check_free_space(Path(tmp).parent, size + header, Path(shown_as or tmp).name)
    if torch_tensors:
        from safetensors.torch import save_file
    else:
        from safetensors.numpy import save_file
    try:
        save_file(tensors, str(tmp), metadata=metadata)
    except (SafetensorError, OSError) as exc:
        code = exc.errno if isinstance(exc, OSError) else _errno_in(str(exc))
        if not code:
            raise
        error = _as_user_error(Path(shown_as or tmp), OSError(code, os.strerror(code)))
        if isinstance(error, WordbridgeError):
            raise error from None
        raise WordbridgeError(f"{shown_as or tmp}: cannot write ({os.strerror(code)})") from None


def load_safetensors(path: str | os.PathLike, torch: bool = False) -> dict:
    """Read every tensor of a safetensors file (numpy arrays, or torch tensors with `torch`); a
    missing, truncated or damaged file is a one-line InputFileError naming it."""
    return read_safetensors(path, torch)[0]


def read_safetensors(path: str | os.PathLike, torch: bool = False) -> tuple[dict, dict[str, str]]:
    """(every tensor, the header's metadata) of a safetensors file: the one reader of whole
    safetensors files. A missing, truncated or damaged file is a one-line InputFileError naming it."""
    from safetensors import safe_open

    with _reading(path):
        with safe_open(str(path), framework="pt" if torch else "numpy") as fh:
            return {k: fh.get_tensor(k) for k in fh.keys()}, dict(fh.metadata() or {})


def read_safetensors_metadata(path: str | os.PathLike) -> dict[str, str]:
    """Only the header metadata (str → str) of a safetensors file, without reading its tensors;
    a missing or damaged file is a one-line InputFileError naming it."""
    from safetensors import safe_open

    with _reading(path):
        with safe_open(str(path), framework="numpy") as fh:
            return dict(fh.metadata() or {})


@contextlib.contextmanager
def _reading(path: str | os.PathLike):
    """safetensors' errors while reading `path` (several types) → one InputFileError line."""
    from safetensors import SafetensorError

    from core.errors import InputFileError

    if not os.path.isfile(path):
        raise InputFileError(path, "file is missing")
    try:
        yield
    except (SafetensorError, ValueError, OSError, RuntimeError, KeyError) as exc:
        reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise InputFileError(path, f"damaged or truncated safetensors file ({reason})") from None


# What an interrupted write leaves: ours (".name.XXXX.tmp", Save As's ".copy.*.tmp"), and the
# ".tmpXXXX" names of other libraries' temporary files (safetensors, tempfile).
_TEMP_NAME = re.compile(r"^\..*\.tmp$|\.tmp[A-Za-z0-9_]{4,}$")
STALE_AFTER_S = 600.0  # a temporary file being written has a fresh modification time


def is_temp_name(name: str) -> bool:
    """Whether a file name is one an interrupted atomic write leaves behind."""
    return bool(_TEMP_NAME.search(name))


def remove_stale_temp_files(root: str | os.PathLike, older_than_s: float = STALE_AFTER_S) -> list[str]:
    """Delete temporary files left by killed writes under `root` (links are not followed, files
    modified in the last `older_than_s` seconds, maybe still being written, are kept); returns
    their paths relative to `root`."""
    import time

    root = Path(root)
    removed = []
    limit = time.time() - older_than_s
    for folder, dirs, files in os.walk(root):  # os.walk does not follow links into folders
        for name in files:
            path = Path(folder) / name
            if is_temp_name(name) and not path.is_symlink():
                with contextlib.suppress(OSError):
                    if path.stat().st_mtime < limit:
                        path.unlink()
                        removed.append(path.relative_to(root).as_posix())
    return removed


def _errno_in(message: str) -> int | None:
    """The errno in a safetensors error text ("... (os error 27)", "IoError(Os { code: 28, ...")."""
    found = re.search(r"os error (\d+)|code: (\d+)", message)
    return int(found.group(1) or found.group(2)) if found else None


def _as_user_error(path: Path, exc: OSError) -> Exception:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return WordbridgeError(f"{path}: disk full; nothing was overwritten (free some space and retry)")
    if exc.errno == errno.EFBIG:
        return WordbridgeError(f"{path}: file-size limit reached (ulimit -f or a quota); nothing was overwritten")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return WordbridgeError(f"{path}: cannot write here ({exc.strerror})")
    return exc
