"""Copy what the GPU half of the people's-voices experiment needs into carry/so762 (≤ 64 MiB travels).

    .venv/bin/python scripts/carry_so762.py build/so762 /work/shared/data/speech/speechocean762 carry/so762

Writes segments_train.tsv with audio paths relative to the folder, and the
audio of the real TRAINING speakers only, minus the calibration speakers (core.voices.experiment
keeps them apart with the same seed): test speakers' recordings never travel to training.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.segments import SegmentTable  # noqa: E402
from core.voices.experiment import VoicesConfig, _real_tables  # noqa: E402


def main() -> int:
    tables, corpus, out = (Path(a) for a in sys.argv[1:4])
    train, calib, test = _real_tables(VoicesConfig(project="", real_segments=str(tables)))
    (out / "audio").mkdir(parents=True, exist_ok=True)
    for name, table in (("segments_train.tsv", SegmentTable.load(tables / "segments_train.tsv")),):
        rel = [f"audio/{Path(a).name}" for a in table.audio]
        SegmentTable(rel, table.start, table.end, table.label, table.speaker, table.utterance,
                     table.position).save(out / name)
    for audio in sorted(set(train.audio)):
        shutil.copy2(corpus / "audio" / Path(audio).name, out / "audio" / Path(audio).name)
    print(f"{len(set(train.audio))} training recordings copied; {len(set(calib.speaker))} calibration and "
          "test speakers left behind")
    return 0


if __name__ == "__main__":
    sys.exit(main())
