"""Cached stages: skipped when up to date, rerun when settings change, resumed after a kill."""

from __future__ import annotations

import pytest

from core.pipeline.stages import Stage, is_done, run_stage, stage_summary


def _counting_stage(name, settings, calls, needs=()):
    def run(folder, progress):
        calls.append(name)
        (folder / "out.txt").write_text(f"{name} {settings}")
        return {"n": len(calls)}
    return Stage(name, settings, run, list(needs))


def test_rerun_skips_finished_stages(tmp_path):
    calls = []
    a = _counting_stage("a", {"x": 1}, calls)
    b = _counting_stage("b", {"y": 2}, calls, needs=[a])
    run_stage(b, tmp_path)
    run_stage(b, tmp_path)
    assert calls == ["a", "b"]
    assert is_done(a, tmp_path) and is_done(b, tmp_path)
    assert stage_summary(b, tmp_path) == {"n": 2}


def test_changed_upstream_setting_reruns_downstream(tmp_path):
    calls = []
    run_stage(_counting_stage("b", {}, calls, needs=[_counting_stage("a", {"x": 1}, calls)]), tmp_path)
    run_stage(_counting_stage("b", {}, calls, needs=[_counting_stage("a", {"x": 2}, calls)]), tmp_path)
    assert calls == ["a", "b", "a", "b"]
    assert len(list((tmp_path / "stages").iterdir())) == 4  # the old outputs are kept


def test_killed_stage_resumes_in_the_same_folder(tmp_path):
    seen = []

    def run(folder, progress):
        seen.append(sorted(p.name for p in folder.iterdir()))
        (folder / "part1").write_text("done")
        if len(seen) == 1:
            raise KeyboardInterrupt  # killed after the first part
        (folder / "part2").write_text("done")

    stage = Stage("train", {"epochs": 3}, run)
    with pytest.raises(KeyboardInterrupt):
        run_stage(stage, tmp_path)
    assert not is_done(stage, tmp_path)
    run_stage(stage, tmp_path)
    assert seen == [[], ["part1"]]  # the second run saw what the first left
    assert is_done(stage, tmp_path)
