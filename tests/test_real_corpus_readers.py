"""Readers for recorded speech (transcribed + forced alignment, speechocean762, mboshi) on tiny
corpora made here: espeak-ng speech (core.synth) written as WAV and as Ogg/Opus, a transcript TSV,
a lexicon, a Mboshi-layout folder. Never reads ../shared/data."""

import json

import numpy as np
import pytest
import soundfile as sf

from core.audio import resample
from core.corpus.forced_align import ForcedAligner, load_lexicon, normalise_words
from core.corpus.readers import corpus_metadata, merge_metadata, read_corpus
from core.errors import Cancelled, InputFileError, WordbridgeError
from core.progress import Progress

pytest.importorskip("pocketsphinx")
pytest.importorskip("espeakng_loader")

SR = 16000
SLACK = 0.2  # seconds: forced alignment vs espeak's own word timings (both approximate)
U1 = "zero three five one seven"
U2 = "we call it bear"
U3 = "eight blorptang two"  # 'blorptang' is only in the corpus lexicon
U4 = "four qwzxv nine"  # 'qwzxv' has no pronunciation anywhere


def speak(text, pad=0.3):
    from core.synth.synthesize import synthesize_utterance
    from core.synth.voices import VoiceSpec

    return synthesize_utterance(text, VoiceSpec("s1", "en", "en-US", "", 150, 50, 50), pad_s=pad)


def write_opus(path, samples, sr=SR, channels=1):
    data = samples if channels == 1 else np.stack([samples] * channels, axis=1)
    sf.write(str(path), data, sr, format="OGG", subtype="OPUS")


@pytest.fixture(scope="module")
def speech():
    """text → (16 kHz samples, espeak timings), synthesised once for the module."""
    return {t: speak(t) for t in (U1, U2, U3, U4)}


def transcribed_folder(root, speech, rows=None, extra_lines=()):
    """A transcribed-layout corpus: audio/*.wav|opus, transcript.tsv, lexicon.txt."""
    (root / "audio").mkdir(parents=True)
    x1, _ = speech[U1]
    sf.write(str(root / "audio" / "u1.wav"), x1, SR)
    x2, _ = speech[U2]
    write_opus(root / "audio" / "u2.opus", resample(x2, SR, 48000), 48000, channels=2)  # 48 kHz stereo Opus
    sf.write(str(root / "audio" / "u3.wav"), speech[U3][0], SR)
    sf.write(str(root / "audio" / "u4.wav"), speech[U4][0], SR)
    sf.write(str(root / "audio" / "short.wav"), speech[U1][0][:int(0.25 * SR)], SR)
    lines = ["utterance\tspeaker\tage\ttext",
             f"u1\tspkA\t30\t{U1.upper()}",
             f"u2\tspkB\t40\t{U2.capitalize()}.",
             f"u3\tspkA\t30\t{U3}",
             f"u4\tspkB\t40\t{U4}",
             "short\tspkA\t30\tzero three five one seven eight nine",
             "gone\tspkA\t30\tone two",
             *extra_lines]
    (root / "transcript.tsv").write_text("\n".join(rows or lines) + "\n", encoding="utf-8")
    (root / "lexicon.txt").write_text("BLORPTANG\tB L AO1 R P T AE2 NG\nZERO\tZ IH1 R OW0\n", encoding="utf-8")
    return root


def check_spans(table, duration_of):
    """Each utterance's words lie inside their audio, in order, without overlapping."""
    for utt in set(table.utterance):
        idx = [i for i, u in enumerate(table.utterance) if u == utt]
        spans = [(table.start[i], table.end[i]) for i in idx]
        assert [table.position[i] for i in idx] == list(range(len(idx)))
        assert all(0 <= s < e <= duration_of(table.audio[idx[0]]) + 1e-6 for s, e in spans)
        assert all(b[0] >= a[1] - 1e-6 for a, b in zip(spans, spans[1:]))


def near_espeak(table, utt, timings):
    """Aligned words of `utt` match espeak's (word, start, end) within SLACK seconds."""
    idx = [i for i, u in enumerate(table.utterance) if u == utt]
    assert [table.label[i] for i in idx] == [w.lower() for w, _, _ in timings]
    for i, (_, s, e) in zip(idx, timings):
        assert abs(table.start[i] - s) < SLACK and abs(table.end[i] - e) < SLACK, (table[i], s, e)


def test_transcribed_places_words_and_counts_skips(tmp_path, speech):
    root = transcribed_folder(tmp_path / "c", speech,
                              extra_lines=["bad\trow", "u1\tspkA\t30\tzero again", "empty\tspkA\t30\t ... ",
                                           "broken\tspkB\t40\tone two"])
    (root / "audio" / "broken.wav").write_bytes(b"RIFF but not really audio")
    table, report = read_corpus(root, "transcribed", lexicon="lexicon.txt")
    check_spans(table, lambda a: sf.info(a).duration)
    near_espeak(table, "u1", speech[U1][1])  # WAV, 16 kHz mono
    near_espeak(table, "u2", speech[U2][1])  # Opus, 48 kHz stereo, "We call it bear."
    near_espeak(table, "u3", speech[U3][1])  # a word from the corpus lexicon
    u4 = [table.label[i] for i, u in enumerate(table.utterance) if u == "u4"]
    assert u4 == ["four", "nine"]  # the unknown word is skipped, its neighbours still placed
    assert set(table.speaker) == {"spkA", "spkB"}
    assert all(label == label.lower() and label.split() == [label] for label in table.label)
    assert report.skipped == {"no pronunciation": 1, "transcript longer than audio": 7,
                              "missing audio": 2, "malformed transcript row": 1,
                              "duplicate utterance": 2, "empty transcript": 1, "unreadable audio": 2}
    assert any("short" in e and "0.25 s" in e for e in report.examples["transcript longer than audio"])
    assert any("transcript.tsv:8" in e and "2 fields" in e for e in report.examples["malformed transcript row"])
    assert any("gone.*" in e for e in report.examples["missing audio"])
    assert "qwzxv" in report.examples["no pronunciation"][0]
    assert any("broken.wav" in e for e in report.examples["unreadable audio"])
    assert report.files_seen == 10 and report.files_used == 4 and report.segments == len(table) == 14


def test_transcribed_options_and_input_errors(tmp_path, speech):
    root = transcribed_folder(tmp_path / "c", speech)
    (root / "t2.tsv").write_text("id\twords\nu1\tzero three five one seven\n", encoding="utf-8")
    table, report = read_corpus(root, "transcribed", transcript="t2.tsv", utterance_column="id",
                                text_column="words", audio_extension="wav")
    assert table.label == U1.split() and table.speaker == [None] * 5 and not report.skipped
    with pytest.raises(InputFileError, match=r"t2.tsv:1: no column 'text' in the header row \(columns: id, words\)"):
        read_corpus(root, "transcribed", transcript="t2.tsv", utterance_column="id")
    with pytest.raises(InputFileError, match="nothere.tsv: transcript not found"):
        read_corpus(root, "transcribed", transcript="nothere.tsv")
    (root / "bad_lex.txt").write_text("ONE\tW AH1 N\nTWO\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"bad_lex.txt:2: lexicon line has a word but no phones"):
        read_corpus(root, "transcribed", lexicon="bad_lex.txt")
    with pytest.raises(InputFileError, match="corpus folder not found"):
        read_corpus(tmp_path / "nowhere", "transcribed")


def test_lexicon_and_normalisation(tmp_path):
    (tmp_path / "lex.txt").write_text(";;; comment\nA\tAH0\nA\tEY0\nREAD(2)  R EH1 D\nread r iy1 d\n")
    assert load_lexicon(tmp_path / "lex.txt") == {"a": ["AH", "EY"], "read": ["R EH D", "R IY D"]}
    assert normalise_words("  Hello, WORLD! <sil> [noise] don't\t\"x\"\n") == ["hello", "world", "don't", "x"]


def test_aligner_rejects_transcript_it_cannot_place(speech):
    aligner = ForcedAligner()
    x, _ = speech[U2]
    ok = aligner.align(x, U2.split(), "u2")
    assert ok.reason is None and [w for w, _, _ in ok.words] == U2.split()
    noise = (np.random.default_rng(0).standard_normal(int(0.4 * SR)) * 0.05).astype(np.float32)
    bad = aligner.align(noise, ["elephant", "hippopotamus"], "noise")
    assert bad.reason in ("transcript longer than audio", "not aligned") and bad.words == []
    assert aligner.align(x, [], "nothing").reason == "empty transcript"


def test_parallel_alignment_matches_and_reports_progress(tmp_path, speech):
    root = transcribed_folder(tmp_path / "c", speech)
    serial, _ = read_corpus(root, "transcribed", lexicon="lexicon.txt")
    seen = []
    progress = Progress(lambda stage, done, total, metrics: seen.append((stage, done, total, metrics)))
    parallel, report = read_corpus(root, "transcribed", lexicon="lexicon.txt", align_workers=2,
                                   progress=progress)
    assert parallel.label == serial.label and np.allclose(parallel.start, serial.start, atol=0.02)
    assert any(s == "forced alignment" and d == t == 5 for s, d, t, _ in seen)
    assert any("real-time factor" in m.get("message", "") for _, _, _, m in seen)
    cancelled = Progress()
    cancelled.cancel()
    with pytest.raises(Cancelled):
        read_corpus(root, "transcribed", progress=cancelled)


def so762_folder(root, speech):
    (root / "audio").mkdir(parents=True)
    for utt, text in (("000010011", U2), ("000010035", U1), ("000030040", U3)):
        write_opus(root / "audio" / f"{utt}.opus", speech[text][0])
    head = "utterance\tspeaker\tgender\tage\ttext\n"
    (root / "train.tsv").write_text(head + f"000010011\t0001\tm\t6\t{U2.upper()}\n"
                                    f"000010035\t0001\tm\t6\t{U1.upper()}\n", encoding="utf-8")
    (root / "test.tsv").write_text(head + f"000030040\t0003\tf\t8\t{U3.upper()}\n"
                                   f"000030041\t0003\tf\t8\tONE TWO\n", encoding="utf-8")
    (root / "lexicon.txt").write_text("BLORPTANG\tB L AO1 R P T AE2 NG\n", encoding="utf-8")
    return root


def test_speechocean762_splits_and_held_out_test_speakers(tmp_path, speech):
    root = so762_folder(tmp_path / "so", speech)
    train, r_train = read_corpus(root, "speechocean762", split="train")
    test, r_test = read_corpus(root, "speechocean762", split="test")
    both, r_all = read_corpus(root, "speechocean762")
    assert set(train.speaker) == {"0001"} and set(test.speaker) == {"0003"}
    assert len(both) == len(train) + len(test) == 4 + 5 + 3
    assert test.label == ["eight", "blorptang", "two"]
    assert r_test.skipped == {"missing audio": 2} and r_train.skipped == {}
    check_spans(both, lambda a: sf.info(a).duration)
    meta = corpus_metadata(root, "speechocean762", {"split": "train"})
    assert meta["held_out_speakers"] == ["0003"] and meta["synthetic"] is False
    (root / "corpus.json").write_text(json.dumps({"held_out_speakers": ["0001"]}))
    assert sorted(corpus_metadata(root, "speechocean762")["held_out_speakers"]) == ["0001", "0003"]
    assert corpus_metadata(root) == {"held_out_speakers": ["0001"]}
    assert merge_metadata({"held_out_speakers": ["a"]}, {"held_out_speakers": ["b"], "x": 1}) == {
        "held_out_speakers": ["a", "b"], "x": 1}
    with pytest.raises(WordbridgeError, match="speechocean762 split must be one of train, test, all, got 'dev'"):
        read_corpus(root, "speechocean762", split="dev")


def test_speechocean762_feature_store_holds_out_test_speakers(tmp_path, speech):
    from core.corpus.build import build_feature_store
    from core.corpus.feature_store import FeatureStore

    root = so762_folder(tmp_path / "so", speech)
    result = build_feature_store(root, tmp_path / "store", "speechocean762", {"split": "all"}, workers=0,
                                 device="cpu")
    store = FeatureStore.open(result.path)
    assert store.metadata["held_out_speakers"] == ["0003"]
    assert "forced alignment" in store.metadata["word_times"] and store.n_segments == 12


def mboshi_folder(root, speech):
    (root / "audio").mkdir(parents=True)
    x, timings = speech[U1]
    write_opus(root / "audio" / "abiayi_1.opus", x)
    write_opus(root / "audio" / "kouarata_2.opus", speech[U2][0])
    duration = len(x) / SR
    (root / "utterances.tsv").write_text(
        "utterance\tspeaker\tsplit\tmboshi\tfrench\n"
        "abiayi_1\tabiayi\ttrain\tkyéma yeékirá ikóó wó adí\tce singe\n"
        "kouarata_2\tkouarata\tdev\tngá pórá yá nω\tmontre-moi\n"
        "kouarata_3\tkouarata\tdev\tsá pεngε\tdans le sac\n"
        "broken row\n", encoding="utf-8")
    w = ["utterance\tstart_s\tend_s\tword"]
    for (_, s, e), word in zip(timings, ["kyema", "yeekirá", "ikoo", "wo", "adí"]):
        w.append(f"abiayi_1\t{s:.3f}\t{e:.3f}\t{word}")
    w += ["kouarata_2\t0.300\t0.600\tngá", "kouarata_2\t0.600\t0.900\tpórá yá",
          f"kouarata_2\t0.900\t{duration + 5:.3f}\tnω", "kouarata_2\t1.0\tx\tyá",
          "orphan_9\t0.1\t0.5\tmo", "orphan_9\t0.5\t0.9\tte"]
    (root / "words.tsv").write_text("\n".join(w) + "\n", encoding="utf-8")
    return root


def test_mboshi_given_word_times_and_skips(tmp_path, speech):
    root = mboshi_folder(tmp_path / "mb", speech)
    table, report = read_corpus(root, "mboshi")
    assert table.label[:5] == ["kyema", "yeekirá", "ikoo", "wo", "adí"]
    assert table.label[5:] == ["ngá"] and table.speaker == ["abiayi"] * 5 + ["kouarata"]
    for i, (_, s, e) in enumerate(speech[U1][1]):
        assert abs(table.start[i] - s) < 0.002 and abs(table.end[i] - e) < 0.002  # as given
    check_spans(table, lambda a: sf.info(a).duration)
    assert report.skipped == {"malformed utterances row": 1, "label with whitespace or empty": 1,
                              "word outside audio": 1, "malformed words row": 1,
                              "no word times": 2, "missing audio": 2}
    assert any("orphan_9.opus: file not found" in e for e in report.examples["missing audio"])
    assert any("words.tsv:8" in e for e in report.examples["label with whitespace or empty"])
    dev, _ = read_corpus(root, "mboshi", split="dev")
    assert set(dev.utterance) == {"kouarata_2"}
    assert "silver" in corpus_metadata(root, "mboshi")["word_times"]
    with pytest.raises(WordbridgeError, match="mboshi split must be one of train, dev, all"):
        read_corpus(root, "mboshi", split="test")
    (root / "words.tsv").write_text("utt\tstart\tend\tword\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"words.tsv:1: header row lacks column\(s\) utterance, start_s, end_s"):
        read_corpus(root, "mboshi")


def test_align_corpus_script_writes_table_and_report(tmp_path, speech):
    import subprocess
    import sys
    from pathlib import Path

    from core.segments import SegmentTable

    root = so762_folder(tmp_path / "so", speech)
    out = tmp_path / "out" / "segments_test.tsv"
    script = Path(__file__).resolve().parents[1] / "scripts" / "align_corpus.py"
    done = subprocess.run([sys.executable, str(script), str(root), "--reader", "speechocean762",
                           "--split", "test", "--out", str(out), "--quiet"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert SegmentTable.load(out).label == ["eight", "blorptang", "two"]
    summary = json.loads(out.with_name(out.name + ".report.json").read_text())
    assert summary["words_placed"] == 3 and summary["skipped_by_reason"] == {"missing audio": 2}
    assert summary["metadata"]["held_out_speakers"] == ["0003"]
    assert summary["alignment"]["real_time_factor"] > 0  # a speed is reported; speed itself is benchmarked, not tested
    bad = subprocess.run([sys.executable, str(script), str(root), "--reader", "speechocean762",
                          "--split", "dev", "--out", str(out), "--quiet"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.strip().startswith("error: speechocean762 split must be")
