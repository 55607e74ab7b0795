"""core.label_export: TextGrid (tier "words"), ELAN .eaf and Audacity labels per recording, named after
the original file with its WAV alongside, read back by our own reader, praatio and pympi."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from core.errors import InputFileError
from core.label_export import (export_recording_labels, export_stem, import_annotated_recording, read_annotation,
                               read_eaf, write_eaf)
from core.lexicon_export import Interval
from core.project import Project, Recording

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import make_fixture_project as fixture  # noqa: E402

pytest.importorskip("pympi")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    from core.audio import save_wav
    from core.classify import ClipClassifier, clip_embedder

    tmp = tmp_path_factory.mktemp("export")
    project = fixture.build_fixture_project(tmp / "proj", n_words=12, n_distractors=2)
    project.import_recording(save_wav(tmp / "tree field.wav", fixture.tone_clip(3), 16000))
    project.import_recording(save_wav(tmp / "other" / "tree field.wav", fixture.tone_clip(5), 16000))
    classifier = ClipClassifier.load(project, embed=clip_embedder(project))
    out = tmp / "labels"
    result = export_recording_labels(project, classifier, "csls", out)
    return project, out, result


def test_files_are_named_after_the_original_with_the_wav_alongside(exported):
    _project, out, result = exported
    assert result.stems == ["tree field", "tree field-2"]
    for stem in result.stems:
        for suffix in (".TextGrid", ".eaf", ".txt", ".wav"):
            assert (out / f"{stem}{suffix}").is_file(), suffix


def test_textgrid_reads_back_with_our_reader_and_praatio(exported):
    from praatio import textgrid

    from core.corpus.textgrid import read_textgrid_corpus, read_textgrid_words

    _project, out, _result = exported
    words = read_textgrid_words(out / "tree field.TextGrid", 10.0, "words")
    assert words is not None and [w[2] for w in words] == [fixture.EN[3]]
    tg = textgrid.openTextgrid(str(out / "tree field-2.TextGrid"), includeEmptyIntervals=False)
    assert [e.label for e in tg.getTier("words").entries] == [fixture.EN[5]]
    table, report = read_textgrid_corpus(out)  # the export folder is a corpus our reader accepts
    assert report.files_used == 2


def test_eaf_round_trip_and_import_into_another_project(exported, tmp_path):
    project, out, _result = exported
    tiers, media = read_eaf(out / "tree field.eaf")
    assert [iv.label for iv in tiers["words"]] == [fixture.EN[3]]
    assert media == ["./tree field.wav"]
    duration = project.recordings()[0].duration  # no segments: the whole recording is one word
    assert tiers["words"][0].start == 0.0 and abs(tiers["words"][0].end - duration) < 0.001
    other = Project.create(tmp_path / "other", "other")
    rid = import_annotated_recording(other, out / "tree field.eaf")
    assert [s.label for s in other.segments(rid)] == [fixture.EN[3]]
    rid = import_annotated_recording(other, out / "tree field-2.TextGrid")
    assert [s.label for s in other.segments(rid)] == [fixture.EN[5]]


def test_write_eaf_keeps_several_tiers_and_bad_files_are_one_line_errors(tmp_path):
    write_eaf(tmp_path / "a.eaf", {"words": [Interval(0.5, 0.9, "eau"), Interval(0.1, 0.4, "l'")],
                                   "gloss": [Interval(0.5, 0.9, "water")]})
    tiers, media = read_eaf(tmp_path / "a.eaf")
    assert [(iv.start, iv.end, iv.label) for iv in tiers["words"]] == [(0.1, 0.4, "l'"), (0.5, 0.9, "eau")]
    assert [iv.label for iv in tiers["gloss"]] == ["water"] and media == []
    (tmp_path / "bad.eaf").write_text("not xml")
    with pytest.raises(InputFileError, match="bad.eaf"):
        read_eaf(tmp_path / "bad.eaf")
    with pytest.raises(InputFileError, match="no tier 'phones'"):
        read_annotation(tmp_path / "a.eaf", "phones")


def test_export_stem():
    def rec(note="", label=None, wav="recordings/20240101-000000-abcd1234.wav"):
        return Recording(1, "", wav, 16000, 1.0, "import", "", note, label, None)

    assert export_stem(rec("imported from /home/x/Mboshi/a b.wav")) == "a b"
    assert export_stem(rec("imported from C:\\data\\kilo.flac")) == "kilo"
    assert export_stem(rec(label="ngá/mbɔ")) == "ngá_mbɔ"
    assert export_stem(rec()) == "20240101-000000-abcd1234"


def test_a_word_too_short_to_embed_is_left_blank_and_the_export_goes_on(tmp_path):
    """A real recording (Mboshi) has words shorter than the encoder's 0.15 s: the export used to stop at
    the first one; now that interval is blank, listed in `unclassified`, and the other words are written."""
    from types import SimpleNamespace

    from core.audio import save_wav
    from core.errors import WordbridgeError

    class Classifier:
        def primary_text(self):
            return "text-x"

        def classify_clip(self, piece, sr, k, method):
            if len(piece) < 0.15 * sr:
                raise WordbridgeError("no speech found in the clip (silent or shorter than 0.15 s)")
            return SimpleNamespace(by_space={"text-x": [SimpleNamespace(word="tree")]})

    project = Project.create(tmp_path / "proj", "short words")
    rid = project.import_recording(save_wav(tmp_path / "utt.wav", fixture.tone_clip(3), 16000))
    project.add_segments(rid, [(0.0, 0.3, None), (0.3, 0.38, None), (0.4, 0.9, None)])
    result = export_recording_labels(project, Classifier(), "csls", tmp_path / "out")
    assert result.stems == ["utt"] and len(result.unclassified) == 1 and "0.300–0.380" in result.unclassified[0]
    words = read_annotation(tmp_path / "out" / "utt.TextGrid")
    assert [(round(w.start, 2), w.label) for w in words] == [(0.0, "tree"), (0.4, "tree")]
    assert [w.label for w in read_annotation(tmp_path / "out" / "utt.eaf")] == ["tree", "tree"]


BAD_LABELS = [(0.0, 0.2, "tree"), (0.2, 0.4, "ice cream"), (0.4, 0.6, "two\nlines"), (0.6, 0.8, "tab\there")]


def _annotated(tmp_path, stem: str) -> Path:
    from core.audio import save_wav

    save_wav(tmp_path / f"{stem}.wav", fixture.tone_clip(3), 16000)
    return tmp_path / f"{stem}.wav"


def test_textgrid_import_skips_and_counts_the_labels_the_corpus_readers_skip(tmp_path):
    """The same check as the corpus readers (`core.corpus.textgrid.label_problem`): spaces, line
    breaks and control characters; skipped and counted under the same reasons, naming file and tier."""
    from praatio import textgrid

    from core.corpus.report import ReadReport
    from core.corpus.textgrid import read_textgrid_corpus
    from core.label_export import skipped_labels_note

    folder = tmp_path / "corpus"
    folder.mkdir()
    _annotated(folder, "utt")
    tg = textgrid.Textgrid()
    tg.addTier(textgrid.IntervalTier("words", BAD_LABELS + [(0.8, 0.9, "bell\x07")], 0, 1.0))
    tg.save(str(folder / "utt.TextGrid"), format="long_textgrid", includeBlankSpaces=True)
    project = Project.create(tmp_path / "proj", "p")
    report = ReadReport()
    rid = import_annotated_recording(project, folder / "utt.TextGrid", report=report)
    assert [s.label for s in project.segments(rid)] == ["tree"]
    assert report.skipped == {"label with spaces or line breaks": 3, "label with control characters": 1}
    example = report.examples["label with spaces or line breaks"][0]
    assert example.startswith(f"{folder / 'utt.TextGrid'}: tier 'words': 'ice cream' at 0.20 s (one word per ")
    assert "'bell\\x07' at 0.80 s" in report.examples["label with control characters"][0]
    assert skipped_labels_note(report) == ("; 4 labels skipped (label with spaces or line breaks: 3, "
                                           "label with control characters: 1)")
    _table, corpus_report = read_textgrid_corpus(folder)  # the corpus reader: the same skips and reasons
    assert corpus_report.skipped == report.skipped


def test_eaf_import_skips_and_counts_bad_labels_like_a_textgrid(tmp_path):
    from core.corpus.report import ReadReport
    from core.label_export import skipped_labels_note

    wav = _annotated(tmp_path, "utt")
    write_eaf(tmp_path / "utt.eaf", {"words": [Interval(*iv) for iv in BAD_LABELS] + [Interval(0.8, 0.9, " ok ")]}, wav)
    project = Project.create(tmp_path / "proj", "p")
    report = ReadReport()
    rid = import_annotated_recording(project, tmp_path / "utt.eaf", report=report)
    assert [s.label for s in project.segments(rid)] == ["tree", "ok"]  # stripped, as a TextGrid's are
    assert report.skipped == {"label with spaces or line breaks": 3}
    assert report.examples["label with spaces or line breaks"][1] == (
        f"{tmp_path / 'utt.eaf'}: tier 'words': 'two\\nlines' at 0.40 s "
        "(one word per interval, no spaces or control characters)")
    assert skipped_labels_note(report) == "; 3 labels skipped (label with spaces or line breaks: 3)"
    assert [iv.label for iv in read_annotation(tmp_path / "utt.eaf")] == ["tree", "ok"]  # no report: still skipped
    assert skipped_labels_note(ReadReport()) == ""
