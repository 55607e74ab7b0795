"""Import the app's heavy libraries in a worker thread without freezing the window.

A plain `import torch` in a worker still stalls the GUI thread: the dynamic loader runs libtorch's
static initialisers (about 0.3 s on a 2-core CPU) inside `dlopen`, which CPython calls with the GIL
held. Calling `dlopen` through ctypes releases the GIL, so the big shared libraries are loaded that
way first; the `import` then finds them loaded. What is left is the module initialisation of
`torch._C` (pybind11, about 0.1 s with the GIL held), which no caller can split.

Afterwards every object alive (the libraries' modules, classes and functions, which live as long as
the process) is moved to the collector's permanent generation with `gc.freeze()`: the full
`gc.collect()` that app.workers.Worker.start runs in the GUI thread then scans only what was made
since, a few milliseconds instead of about 120 ms with torch loaded.
"""

from __future__ import annotations

import ctypes
import gc
import importlib.util
import os
import sys
from pathlib import Path

# libtorch_global_deps is loaded globally as torch does; libtorch.so pulls in libtorch_cpu/cuda and c10
TORCH_LIBRARIES = (("libtorch_global_deps.so", os.RTLD_GLOBAL), ("libtorch.so", os.RTLD_LOCAL))


def preload_torch_libraries() -> list[str]:
    """dlopen torch's shared libraries with the GIL released; returns the ones loaded (none is an error:
    a missing or unloadable library is left to `import torch`, which reports it as usual)."""
    if sys.platform != "linux" or "torch" in sys.modules:
        return []
    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        return []
    folder = Path(list(spec.submodule_search_locations)[0]) / "lib"
    libc = ctypes.CDLL(None)  # a CDLL (not PyDLL) call releases the GIL for its duration
    libc.dlopen.restype = ctypes.c_void_p
    libc.dlopen.argtypes = [ctypes.c_char_p, ctypes.c_int]
    loaded = []
    for name, scope in TORCH_LIBRARIES:
        path = folder / name
        if path.is_file() and libc.dlopen(str(path).encode(), os.RTLD_NOW | scope):
            loaded.append(name)
    return loaded


_loaded = False


def freeze_long_lived() -> None:
    """Move every object alive now to the collector's permanent generation (`gc.freeze()`, cheap):
    called when the main window is built (PySide6, numpy, the window's own widgets: about 120 ms of
    `gc.collect()` otherwise) and after the heavy libraries are imported. Garbage that already exists
    stays uncollected, a small, bounded cost; objects made later are collected as usual."""
    gc.freeze()


def import_heavy_libraries() -> None:
    """Import torch, pyqtgraph, sounddevice and the modules that need them, then freeze the collector's
    view of them (see the module docstring); only the first call does anything. Call from a worker
    thread (opening a project, loading a classifier)."""
    global _loaded
    if _loaded:
        return
    preload_torch_libraries()
    import torch  # noqa: F401 - about 2 s on a 2-core CPU: never on the GUI thread
    import pyqtgraph  # noqa: F401

    import app.joint_view  # noqa: F401 - imports core.projection / retrieval
    import core.classify  # noqa: F401
    # the settings file's lock (app/settings.py): saving the recent list on the GUI thread while a
    # project opens imported core.project and filelock (with asyncio) there, ~45 ms of stall
    import filelock  # noqa: F401
    import core.project.locking  # noqa: F401

    try:  # the classifier's retrieval asks for faiss (optional): its import held the GIL ~60 ms while a project opened
        import faiss  # noqa: F401
    except ImportError:
        pass

    try:  # PortAudio starts at import (about 60 ms); the recorder panel asks it for devices later
        import sounddevice  # noqa: F401
    except OSError:  # no PortAudio library: the recorder says so itself
        pass
    freeze_long_lived()  # once: the libraries live as long as the process
    _loaded = True
