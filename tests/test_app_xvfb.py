"""A real X window: start Xvfb on a free display, run `python main.py app PROJECT` with the xcb
platform, let the app screenshot the screen to tests/artifacts/, then stop Xvfb by its pid."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.xvfb, pytest.mark.gui]
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from child_process import stop  # noqa: E402
ARTIFACTS = ROOT / "tests" / "artifacts"


def _free_display() -> int:
    for n in range(99, 160):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return n
    raise RuntimeError("no free X display number between :99 and :159")


@pytest.fixture
def xvfb():
    binary = shutil.which("Xvfb")
    if binary is None:
        pytest.skip("Xvfb is not installed (apt-get install xvfb; ./run.sh setup does it as root)")
    display = _free_display()
    proc = subprocess.Popen([binary, f":{display}", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 10
    while not Path(f"/tmp/.X11-unix/X{display}").exists():
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.fail(f"Xvfb did not start: {proc.stderr.read().decode(errors='replace')[-500:]}")
        time.sleep(0.05)
    try:
        yield f":{display}"
    finally:
        stop(proc)


def test_app_window_under_xvfb(xvfb, pca_project, tmp_path):
    import make_fixture_project as fixture

    project = pca_project
    rid = project.add_recording(fixture.tone_clip(3), 16000, source="import")
    project.add_segments(rid, [(0.25, 0.75, None)])
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot, recordings_shot = ARTIFACTS / "app_xvfb.png", ARTIFACTS / "app_xvfb_recordings.png"
    shot.unlink(missing_ok=True)
    recordings_shot.unlink(missing_ok=True)
    env = {**os.environ, "DISPLAY": xvfb, "QT_QPA_PLATFORM": "xcb", "WORDBRIDGE_SCREENSHOT": str(shot),
           "WORDBRIDGE_SCREENSHOT_RECORDINGS": str(recordings_shot),
           "WORDBRIDGE_CONFIG_DIR": str(tmp_path / "config"), "WORDBRIDGE_REPORT_STARTUP": "1"}
    result = subprocess.run([sys.executable, "main.py", "app", str(project.root)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "startup: window shown" in result.stdout
    from PySide6.QtGui import QImage

    image = QImage(str(shot))
    assert image.width() == 1280 and image.height() == 800
    # not a blank screen: the window draws many distinct colours (banner, plot, widgets)
    colours = {image.pixel(x, y) for x in range(0, 1280, 16) for y in range(0, 800, 16)}
    assert len(colours) > 20
    # the Recordings tab with the clip's waveform and its word span (the boundary editor) is drawn too
    tab = QImage(str(recordings_shot))
    assert tab.width() == 1280 and tab != image
    green = sum(1 for x in range(0, 1280, 4) for y in range(0, 800, 4)
                if (lambda c: c.green() > c.red() + 30 and c.green() > c.blue())(tab.pixelColor(x, y)))
    assert green > 50  # the shaded word span (light green over the waveform)
