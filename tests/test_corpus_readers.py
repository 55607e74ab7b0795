"""core.corpus readers on tiny generated trees: what they read, what they skip and why."""

import json

import numpy as np
import pytest
import soundfile as sf

from core.corpus.clips import read_clips
from core.corpus.readers import corpus_metadata, read_corpus
from core.corpus.textgrid import read_librispeech, read_textgrid_corpus
from core.corpus.unsegmented import pause_split, read_chunks, read_vad, webrtc_speech_regions
from core.errors import InputFileError, WordbridgeError

SR = 16000


def tone(seconds, freq=220.0, amp=0.3):
    t = np.arange(int(round(seconds * SR))) / SR
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def voice(seconds, f0=120.0):
    """A harmonic 'vowel' with a smooth envelope: webrtcvad takes it for speech."""
    t = np.arange(int(seconds * SR)) / SR
    x = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 20))
    return (0.3 * x * np.sin(np.pi * t / seconds) ** 0.5 / np.abs(x).max()).astype(np.float32)


def quiet(seconds, seed=0):
    return (np.random.default_rng(seed).standard_normal(int(seconds * SR)) * 1e-3).astype(np.float32)


def write_textgrid(path, xmax, tiers):
    from praatio import textgrid
    from praatio.data_classes.interval_tier import IntervalTier

    tg = textgrid.Textgrid()
    for name, entries in tiers.items():
        tg.addTier(IntervalTier(name, entries, 0, xmax))
    path.parent.mkdir(parents=True, exist_ok=True)
    tg.save(str(path), format="long_textgrid", includeBlankSpaces=True)


def write_wav(path, samples):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, samples, SR)


WORDS = [(0.1, 0.4, "the"), (0.4, 0.5, "sil"), (0.5, 0.9, "cat"), (0.9, 1.0, "sp"), (1.0, 1.5, "sat")]


def test_textgrid_reader_reads_words_and_reports_bad_pairs(tmp_path):
    write_wav(tmp_path / "spk1" / "a.wav", tone(2.0))
    write_textgrid(tmp_path / "spk1" / "a.TextGrid", 2.0, {"words": WORDS, "phones": [(0.1, 0.2, "DH")]})
    write_wav(tmp_path / "b.wav", tone(1.0))
    write_textgrid(tmp_path / "b.TextGrid", 1.0, {"phones": [(0.1, 0.2, "K")]})  # no word tier
    write_wav(tmp_path / "c.wav", tone(1.0))
    write_textgrid(tmp_path / "c.TextGrid", 3.0, {"words": [(0.1, 2.5, "long")]})  # longer than audio
    write_wav(tmp_path / "d.wav", tone(1.0))  # no TextGrid
    write_wav(tmp_path / "e.wav", tone(1.0))
    (tmp_path / "e.TextGrid").write_text("this is not a TextGrid\n")
    write_textgrid(tmp_path / "orphan.TextGrid", 1.0, {"words": [(0.1, 0.5, "x")]})

    table, report = read_textgrid_corpus(tmp_path)
    assert [s.label for s in table] == ["the", "cat", "sat"]
    assert list(table.position) == [0, 1, 2]
    assert set(table.utterance) == {"spk1/a"} and set(table.speaker) == {"spk1"}
    assert table[1].start == pytest.approx(0.5) and table[1].end == pytest.approx(0.9)
    assert report.files_seen == 5 and report.files_used == 1 and report.segments == 3
    assert report.skipped == {"tier missing": 1, "TextGrid longer than audio": 1, "no TextGrid": 1,
                              "unreadable TextGrid": 1, "TextGrid without audio": 1}
    assert "no tier 'words' (tiers: phones)" in report.examples["tier missing"][0]
    assert "ends at 3.00 s but the audio lasts 1.00 s" in report.examples["TextGrid longer than audio"][0]
    summary = report.summary()
    assert "3 segments from 1 of 5 files; skipped 5" in summary
    assert "skipped 1 × no TextGrid" in summary


def test_textgrid_reader_other_tier_name_and_broken_audio(tmp_path):
    write_wav(tmp_path / "a.wav", tone(2.0))
    write_textgrid(tmp_path / "a.TextGrid", 2.0, {"spk - Words": WORDS})
    (tmp_path / "z.wav").write_bytes(b"garbage" * 20)
    write_textgrid(tmp_path / "z.TextGrid", 1.0, {"words": WORDS[:1]})
    table, report = read_textgrid_corpus(tmp_path, tier="words", lowercase=True)
    assert [s.label for s in table] == ["the", "cat", "sat"]
    assert report.skipped == {"unreadable audio": 1}
    assert "z.wav: cannot read audio" in report.examples["unreadable audio"][0]


def test_librispeech_tree_with_parallel_mfa_alignments(tmp_path):
    corpus, aligned = tmp_path / "LibriSpeech" / "dev", tmp_path / "aligned"
    write_wav(corpus / "84" / "121123" / "84-121123-0000.wav", tone(2.0))
    write_textgrid(aligned / "84" / "84-121123-0000.TextGrid", 2.0, {"words": WORDS, "phones": []})
    write_wav(corpus / "84" / "121123" / "84-121123-0001.wav", tone(1.2))
    write_textgrid(corpus / "84" / "121123" / "84-121123-0001.TextGrid", 1.2,
                   {"words": [(0.0, 0.6, "hello"), (0.6, 1.2, "world")]})
    write_wav(corpus / "174" / "50561" / "174-50561-0000.wav", tone(1.0))  # not aligned
    table, report = read_librispeech(corpus, alignments=aligned)
    assert [(s.utterance, s.position, s.label) for s in table] == [
        ("84-121123-0000", 0, "the"), ("84-121123-0000", 1, "cat"), ("84-121123-0000", 2, "sat"),
        ("84-121123-0001", 0, "hello"), ("84-121123-0001", 1, "world")]
    assert set(table.speaker) == {"84"}
    assert report.skipped == {"no TextGrid": 1}
    assert list(table.utterance_ids()) == [0, 0, 0, 1, 1]


def test_clips_labels_from_file_names(tmp_path):
    for name in ("hello_003.wav", "hello-4.wav", "world.wav", "bonjour 12.wav"):
        write_wav(tmp_path / name, tone(0.4))
    write_wav(tmp_path / "tiny_001.wav", tone(0.03))  # too short for a word
    sf.write(tmp_path / "empty_001.wav", np.zeros(0, np.float32), SR)
    (tmp_path / "broken_002.wav").write_bytes(b"\x00" * 100)
    table, report = read_clips(tmp_path)
    assert sorted(table.label) == ["bonjour", "hello", "hello", "world"]
    assert all(p == 0 for p in table.position) and len(set(table.utterance)) == 4
    assert all(abs(s.end - 0.4) < 1e-6 and s.start == 0 for s in table)
    assert report.skipped == {"too short": 1, "empty audio": 1, "unreadable audio": 1}
    assert "tiny_001.wav: 0.030 s (< 0.05 s)" in report.examples["too short"][0]


def test_clips_custom_regex_csv_and_trim(tmp_path):
    write_wav(tmp_path / "w" / "spk-dog.wav", np.concatenate([np.zeros(SR), tone(0.3), np.zeros(SR)]))
    write_wav(tmp_path / "w" / "spk-cat.wav", tone(0.3))
    write_wav(tmp_path / "w" / "silent.wav", np.zeros(SR, np.float32))
    table, report = read_clips(tmp_path / "w", label_pattern=r"^spk-(?P<label>\w+)$", trim=True)
    assert sorted(table.label) == ["cat", "dog"]
    dog = next(s for s in table if s.label == "dog")
    assert dog.start == pytest.approx(0.75, abs=0.02) and dog.end == pytest.approx(1.55, abs=0.02)
    assert report.skipped == {"file name does not match label pattern": 1}

    csv = tmp_path / "labels.csv"
    csv.write_text("file,label,speaker\nw/spk-dog.wav,chien,ana\nw/spk-cat.wav,chat,\n"
                   "w/missing.wav,rien,bob\nonly-one-column\n")
    table, report = read_clips(csv)
    assert [(s.label, s.speaker) for s in table] == [("chien", "ana"), ("chat", None)]
    assert report.skipped == {"missing audio": 1, "bad CSV row": 1}
    assert "labels.csv:5: expected file,label[,speaker]" in report.examples["bad CSV row"][0]
    with pytest.raises(WordbridgeError, match="not a valid regular expression"):
        read_clips(tmp_path / "w", label_pattern="(")


def test_vad_splits_speech_at_pauses(tmp_path):
    sentence = [quiet(1.0), voice(0.3), quiet(0.15, 1), voice(0.4, 150), quiet(0.15, 2), voice(0.25),
                quiet(1.0, 3), voice(0.35), quiet(0.8, 4)]
    write_wav(tmp_path / "rec.wav", np.concatenate(sentence))
    write_wav(tmp_path / "silence.wav", quiet(2.0))
    (tmp_path / "bad.flac").write_bytes(b"fLaC" + b"\x00" * 50)
    table, report = read_vad(tmp_path)
    spans = [(round(s.start, 2), round(s.end, 2)) for s in table]
    expected = [(1.0, 1.3), (1.45, 1.85), (2.0, 2.25), (3.25, 3.6)]
    assert len(spans) == len(expected)
    for (a, b), (c, d) in zip(spans, expected):
        assert abs(a - c) <= 0.03 and abs(b - d) <= 0.03
    assert [s.position for s in table] == [0, 1, 2, 0]
    assert table.utterance[0] == table.utterance[2] != table.utterance[3]
    assert all(s.label is None for s in table)
    assert report.skipped == {"no speech found": 1, "unreadable audio": 1}


def test_pause_split_cuts_long_stretches_and_drops_blips():
    region = np.concatenate([voice(2.5), quiet(0.2), voice(0.05)])
    words = pause_split(region, SR, max_word=1.0)
    assert len(words) >= 3 and all((b - a) / SR <= 1.0 for a, b in words)
    assert words[-1][1] <= int(2.5 * SR) + 160  # the 0.05-s blip is not a word
    assert pause_split(quiet(1.0), SR, reference=0.3) == []  # noise far below the recording's level
    assert webrtc_speech_regions(np.concatenate([quiet(1.0), voice(0.5), quiet(1.0)])) != []


def test_chunks(tmp_path):
    write_wav(tmp_path / "a.wav", tone(1.3))
    write_wav(tmp_path / "b.wav", tone(0.2))
    table, report = read_chunks(tmp_path, chunk_seconds=0.5)
    assert [(s.start, round(s.end, 3), s.position) for s in table] == [(0.0, 0.5, 0), (0.5, 1.0, 1), (1.0, 1.3, 2)]
    assert report.skipped == {"shorter than half a chunk": 1}
    with pytest.raises(WordbridgeError, match="chunk length must be positive"):
        read_chunks(tmp_path, chunk_seconds=0)


def test_read_corpus_dispatch_and_metadata(tmp_path):
    write_wav(tmp_path / "a.wav", tone(1.0))
    table, _ = read_corpus(tmp_path, "chunks", chunk_seconds=0.25, tier="ignored-by-chunks")
    assert len(table) == 4
    with pytest.raises(WordbridgeError, match="unknown corpus reader 'mfa'"):
        read_corpus(tmp_path, "mfa")
    with pytest.raises(InputFileError, match="corpus folder not found"):
        read_corpus(tmp_path / "nope", "chunks")
    assert corpus_metadata(tmp_path) == {}
    (tmp_path / "corpus.json").write_text(json.dumps({"synthetic": True, "voices": 3}))
    assert corpus_metadata(tmp_path)["synthetic"] is True
    (tmp_path / "corpus.json").write_text(json.dumps({"synthetic": "yes"}))
    with pytest.raises(InputFileError, match='"synthetic" must be true or false'):
        corpus_metadata(tmp_path)
