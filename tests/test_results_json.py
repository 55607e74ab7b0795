"""docs/results.json holds exactly what the run folders under docs/runs say (scripts/results_json.py)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_results_json_is_traceable_to_run_folders():
    spec = importlib.util.spec_from_file_location("results_json", ROOT / "scripts" / "results_json.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    values, _missing = module.collect()
    on_disk = json.loads((ROOT / "docs" / "results.json").read_text(encoding="utf-8"))
    assert on_disk == values
    assert all(isinstance(v, (int, float)) for v in on_disk.values())
