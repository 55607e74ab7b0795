"""Shared test set-up: Qt offscreen, per-user app settings kept under each test's tmp_path, and the
`numeric` marker on the modules whose results are floating-point computations (alignment, refine,
classify, retrieval, text space, ...): `./run.sh test` runs those a second time under another BLAS /
threads configuration (docs/RELIABILITY.md), so a test that hinges on a CPU's last bits fails here
and not only on someone else's machine."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

NUMERIC_MODULES = frozenset({
    "test_alignment", "test_alignment_adversarial", "test_alignment_adversarial_rotation",
    "test_alignment_restarts", "test_classify", "test_classify_ranking", "test_refine_pairs",
    "test_retrieval", "test_text_space", "test_projection", "test_evaluation", "test_vectors",
    "test_skipgram", "test_speech_pair_mining", "test_speech_metrics", "test_speech_types",
    "test_alignment_gromov", "test_type_join", "test_voice_space",
})


def pytest_collection_modifyitems(config, items):
    """Mark every test of NUMERIC_MODULES `numeric` (the second pass of `./run.sh test` selects them)."""
    for item in items:
        if Path(str(item.fspath)).stem in NUMERIC_MODULES:
            item.add_marker(pytest.mark.numeric)


def pytest_report_header(config):
    """Say which BLAS libraries, kernels and thread counts this run uses (the second pass differs)."""
    try:
        from threadpoolctl import threadpool_info

        import numpy  # noqa: F401  (loads OpenBLAS so that threadpoolctl sees it)
        import torch

        pools = ", ".join(f"{p.get('internal_api')} {p.get('architecture', '')} × {p.get('num_threads')}"
                          for p in threadpool_info())
        second = os.environ.get("WORDBRIDGE_SECOND_BLAS")
        return [f"BLAS: {pools}; torch threads {torch.get_num_threads()}, "
                f"CPU capability {torch.backends.cpu.get_cpu_capability()}"
                + (f"; second configuration: {second}" if second else "")]
    except Exception as exc:  # a header must never stop the run
        return [f"BLAS: unknown ({exc})"]


@pytest.fixture
def app_settings(tmp_path, monkeypatch):
    """Point the app's per-user settings and data at tmp_path (never the real home); return the settings."""
    monkeypatch.setenv("WORDBRIDGE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("WORDBRIDGE_DATA_HOME", str(tmp_path / "data"))
    from app.settings import Settings

    return Settings()


@pytest.fixture
def window(qtbot, app_settings):
    """The app's main window with settings and data under tmp_path (closed by pytest-qt)."""
    from app.main_window import MainWindow

    w = MainWindow(app_settings)
    qtbot.addWidget(w, before_close_func=lambda w: w.finish_workers())
    return w


@pytest.fixture
def settle(qtbot):
    """`settle(worker, timeout_ms)` waits until an app Worker has ended and the GUI thread has run
    every slot of what it emitted (Worker.settled). Waiting with qtbot.waitSignal(worker.done) after
    the app started the worker misses a job that ends first — a fresh-clone CI run failed that way."""

    def wait(worker, timeout: int = 30000):
        assert worker is not None, "no worker was started"
        qtbot.waitUntil(worker.settled, timeout=timeout)

    return wait


@pytest.fixture
def open_window(qtbot, app_settings):
    """A factory: `open_window(root)` is a new main window opened on the project at `root`, once its
    classifier has loaded (a second call on the same project is a restart)."""
    from app.main_window import MainWindow

    def make(root):
        w = MainWindow(app_settings)
        qtbot.addWidget(w, before_close_func=lambda w: w.finish_workers())
        assert w.open_project(root)
        qtbot.waitUntil(lambda: w.session.classifier is not None, timeout=20000)
        return w

    return make


@pytest.fixture
def empty_project_window(qtbot, app_settings, tmp_path):
    """A main window opened on a new, empty English project at tmp_path/proj (no classifier to wait for)."""
    from app.main_window import MainWindow
    from core.project.project import Project

    Project.create(tmp_path / "proj", "empty test project", languages=["en"])
    w = MainWindow(app_settings)
    qtbot.addWidget(w, before_close_func=lambda w: w.finish_workers())
    assert w.open_project(tmp_path / "proj")
    return w


@pytest.fixture
def pca_project(tmp_path):
    """The app tests' 20-word fixture project (scripts/make_fixture_project.py, 10 distractors) with
    its aligned PCA joint layout, under tmp_path/proj."""
    import sys

    from core.projection import compute_joint_projection

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    import make_fixture_project

    project = make_fixture_project.build_fixture_project(tmp_path / "proj", n_words=20, n_distractors=10)
    compute_joint_projection(project, "pca", aligned=True)
    return project
