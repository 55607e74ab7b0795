"""core.segments: the segment model and its table, saved as JSON lines and TSV."""

import numpy as np
import pytest

from core.errors import InputFileError
from core.segments import Segment, SegmentTable

SEGMENTS = [
    Segment("a.wav", 0.1, 0.4, "the", "spk1", "utt-a", 0),
    Segment("a.wav", 0.5, 0.9, "cat\twith tab", None, "utt-a", 1),
    Segment("b.flac", 0.0, 0.333333333333, None, "spk2", "utt-b", 0),
]


@pytest.mark.parametrize("name", ["segments.jsonl", "segments.tsv"])
def test_round_trip(tmp_path, name):
    table = SegmentTable.from_segments(SEGMENTS)
    table.save(tmp_path / name)
    back = SegmentTable.load(tmp_path / name)
    assert list(back) == SEGMENTS
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary file left behind


def test_columns_and_helpers():
    table = SegmentTable.from_segments(SEGMENTS)
    assert len(table) == 3 and table[1].duration == pytest.approx(0.4)
    assert table.start.dtype == np.float64 and table.position.dtype == np.int64
    assert list(table.utterance_ids()) == [0, 0, 1]
    assert table.audio_files() == ["a.wav", "b.flac"]
    assert table.indices_by_audio() == {"a.wav": [0, 1], "b.flac": [2]}
    assert list(table.subset([2, 0])) == [SEGMENTS[2], SEGMENTS[0]]
    assert len(table.concat(SegmentTable.empty())) == 3


def test_bad_lines_name_file_and_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"audio": "a.wav", "start": 0, "end": 1, "utterance": "u", "position": 0}\n'
                   '{"audio": "a.wav", "start": "x"}\n')
    with pytest.raises(InputFileError, match=r"bad\.jsonl:2: bad segment line"):
        SegmentTable.load(bad)
    tsv = tmp_path / "bad.tsv"
    tsv.write_text("audio\tstart\n")
    with pytest.raises(InputFileError, match=r"bad\.tsv:1: header must be audio start end"):
        SegmentTable.load(tsv)
    with pytest.raises(InputFileError, match="file not found"):
        SegmentTable.load(tmp_path / "none.jsonl")
