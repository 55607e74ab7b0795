"""Cached, resumable stages.

A stage is a function that fills one folder. Its folder name carries a hash of everything it
depends on (its own settings and the keys of the stages it reads), so a rerun with the same
settings finds the folder finished (`stage.json` present) and skips it, and a changed setting
gets a fresh folder without touching the old one. A stage that was killed midway has its folder
but no `stage.json`: it runs again in the same folder, and stages that can resume (corpus
synthesis, feature extraction, training with checkpoints) continue from what is there.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from core.atomic import write_json
from core.progress import Progress, ensure

DONE_FILE = "stage.json"


@dataclass
class Stage:
    """One unit of cached work: `run(folder, progress)` writes its outputs into `folder`."""

    name: str
    settings: dict
    run: Callable[[Path, Progress], dict | None]
    needs: list["Stage"] = field(default_factory=list)

    @property
    def key(self) -> str:
        """A hash of the settings and of the keys of every stage this one needs."""
        payload = json.dumps({"name": self.name, "settings": self.settings,
                              "needs": sorted(s.key for s in self.needs)}, sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:12]

    def folder(self, root: Path) -> Path:
        return Path(root) / "stages" / f"{self.name}-{self.key}"


def is_done(stage: Stage, root: Path) -> bool:
    """True when the stage's folder holds a finished marker."""
    return (stage.folder(root) / DONE_FILE).is_file()


def run_stage(stage: Stage, root: Path, progress: Progress | None = None, force: bool = False) -> Path:
    """Run `stage` (after the stages it needs) unless it is already finished; return its folder."""
    progress = ensure(progress)
    for need in stage.needs:
        run_stage(need, root, progress)
    folder = stage.folder(root)
    if is_done(stage, root) and not force:
        progress.log(f"{stage.name}: up to date ({folder.name})")
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    progress.set_stage(stage.name)
    started = time.time()
    summary = stage.run(folder, progress) or {}
    write_json(folder / DONE_FILE, {"name": stage.name, "key": stage.key, "settings": stage.settings,
                                    "needs": {s.name: s.key for s in stage.needs},
                                    "seconds": round(time.time() - started, 3), "summary": summary})
    return folder


def stage_summary(stage: Stage, root: Path) -> dict:
    """The summary a finished stage recorded."""
    return json.loads((stage.folder(root) / DONE_FILE).read_text())["summary"]
