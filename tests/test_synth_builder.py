"""The synthetic corpus builder and the `synthesize` command."""

from __future__ import annotations

import json

import pytest

from core.errors import Cancelled, InputFileError, WordbridgeError
from core.progress import Progress
from core.synth.builder import SEGMENT_COLUMNS, SynthConfig, build_corpus, synth_config
from core.synth.text_source import read_text_items

pytest.importorskip("espeakng_loader")

VERSES = [
    (1, 1, 1, "In the beginning God created the heaven and the earth."),
    (1, 1, 2, "And the earth was without form, and void."),
    (1, 2, 1, "Thus the heavens and the earth were finished."),
    (1, 3, 1, "Now the serpent was more subtil than any beast of the field."),
]


@pytest.fixture
def verses_tsv(tmp_path):
    path = tmp_path / "bible.tsv"
    path.write_text("".join(f"{b}\t{c}\t{v}\t{t}\n" for b, c, v, t in VERSES), encoding="utf-8")
    return path


def _config(path, **kw):
    base = dict(text_path=str(path), max_verses=3, speakers=3, held_out_speakers=1, seed=0)
    return SynthConfig(**(base | kw))


def test_builder_writes_wav_textgrid_metadata_and_index(verses_tsv, tmp_path):
    import soundfile as sf
    from praatio import textgrid

    out = tmp_path / "corpus"
    meta = build_corpus(_config(verses_tsv), out, workers=1)
    assert meta["synthetic"] is True and meta["complete"] is True
    assert meta["made_by"].startswith("espeak-ng ") and "espeakng-loader" in meta["made_by"]
    assert meta["counts"]["utterances"] == 3
    assert meta["held_out_speakers"] == ["spk002"]
    assert meta["speakers"]["spk002"]["held_out"] is True
    assert meta["speakers"]["spk000"]["held_out"] is False
    on_disk = json.loads((out / "corpus.json").read_text(encoding="utf-8"))
    assert on_disk["synthetic"] is True and on_disk["settings"]["seed"] == 0

    rows = (out / "segments.tsv").read_text(encoding="utf-8").splitlines()
    assert rows[0].split("\t") == list(SEGMENT_COLUMNS)
    assert len(rows) == 4
    total_words = 0
    for line in rows[1:]:
        row = dict(zip(SEGMENT_COLUMNS, line.split("\t")))
        assert row["wav"].startswith(row["speaker"] + "/")
        audio, rate = sf.read(out / row["wav"])
        info = sf.info(str(out / row["wav"]))
        assert rate == 16000 and audio.ndim == 1 and info.subtype == "PCM_16"
        tg = textgrid.openTextgrid(str(out / row["textgrid"]), includeEmptyIntervals=False)
        labels = [e.label for e in tg.getTier("words").entries]
        verse_text = next(t for b, c, v, t in VERSES if f"B{b:02d}C{c:03d}V{v:03d}" == row["item_id"])
        assert " ".join(labels) == " ".join(w.lower() for w in
                                            verse_text.replace(",", "").replace(".", "").split())
        assert tg.getTier("words").entries[-1].end <= audio.size / rate
        assert int(row["held_out"]) == (row["speaker"] == "spk002")
        total_words += len(labels)
    assert meta["counts"]["word_tokens"] == total_words


def test_resume_skips_finished_files_and_remakes_broken_ones(verses_tsv, tmp_path):
    out = tmp_path / "corpus"
    build_corpus(_config(verses_tsv), out, workers=1)
    wavs = sorted(out.glob("spk*/*.wav"))
    grids = sorted(out.glob("spk*/*.TextGrid"))
    stamps = {p: p.stat().st_mtime_ns for p in wavs + grids}
    again = build_corpus(_config(verses_tsv), out, workers=1)
    assert again["counts"]["made_now"] == 0 and again["counts"]["already_present"] == 3
    assert {p: p.stat().st_mtime_ns for p in wavs + grids} == stamps

    grids[0].unlink()
    wavs[1].write_bytes(b"not a wav")
    third = build_corpus(_config(verses_tsv), out, workers=1)
    assert third["counts"]["made_now"] == 2
    assert grids[0].is_file() and wavs[1].stat().st_size > 1000


def test_resume_with_other_settings_is_refused(verses_tsv, tmp_path):
    out = tmp_path / "corpus"
    build_corpus(_config(verses_tsv), out, workers=1)
    with pytest.raises(WordbridgeError, match=r"other settings \(seed: 0 -> 1\)"):
        build_corpus(_config(verses_tsv, seed=1), out, workers=1)


def test_isolated_words_are_the_most_frequent_spoken_alone_by_every_training_voice(verses_tsv, tmp_path):
    from praatio import textgrid

    out = tmp_path / "corpus"
    meta = build_corpus(_config(verses_tsv, isolated_words=2), out, workers=1)
    assert meta["counts"]["utterances"] == 3 + 2 * 2  # 3 verses + 2 words × 2 training voices
    assert meta["counts"]["isolated_word_utterances"] == 4
    rows = [dict(zip(SEGMENT_COLUMNS, line.split("\t")))
            for line in (out / "segments.tsv").read_text(encoding="utf-8").splitlines()[1:]]
    alone = [r for r in rows if r["item_id"].startswith("W")]
    assert sorted((r["text"], r["speaker"]) for r in alone) == [
        ("and", "spk000"), ("and", "spk001"), ("the", "spk000"), ("the", "spk001")]  # 'the' ×6, 'and' ×4
    for row in alone:
        assert row["held_out"] == "0"
        tg = textgrid.openTextgrid(str(out / row["textgrid"]), includeEmptyIntervals=False)
        assert [e.label for e in tg.getTier("words").entries] == [row["text"]]
    assert [r["item_id"] for r in rows[:3]] == ["B01C001V001", "B01C001V002", "B01C002V001"]


def test_a_corpus_built_before_a_setting_existed_resumes_with_its_default(verses_tsv, tmp_path):
    out = tmp_path / "corpus"
    build_corpus(_config(verses_tsv), out, workers=1)
    meta = json.loads((out / "corpus.json").read_text(encoding="utf-8"))
    del meta["settings"]["isolated_words"]
    (out / "corpus.json").write_text(json.dumps(meta), encoding="utf-8")
    assert build_corpus(_config(verses_tsv), out, workers=1)["counts"]["already_present"] == 3
    with pytest.raises(WordbridgeError, match=r"isolated_words: 0 -> 1"):
        build_corpus(_config(verses_tsv, isolated_words=1), out, workers=1)


def test_cancel_then_resume(verses_tsv, tmp_path):
    out = tmp_path / "corpus"
    progress = Progress(lambda stage, done, total, metrics: progress.cancel() if done >= 1 else None)
    with pytest.raises(Cancelled):
        build_corpus(_config(verses_tsv), out, workers=1, progress=progress)
    assert len(list(out.glob("spk*/*.wav"))) == 1
    assert json.loads((out / "corpus.json").read_text())["complete"] is False
    meta = build_corpus(_config(verses_tsv), out, workers=1)
    assert meta["counts"]["already_present"] == 1 and meta["counts"]["made_now"] == 2


def test_repeats_use_different_speakers_and_parallel_matches_serial(verses_tsv, tmp_path):
    # Not byte-identical: espeak-ng keeps internal state (pitch flutter phase, noise) from one
    # utterance to the next, so the same utterance differs by a few samples between runs.
    import soundfile as sf
    from core.synth.textgrid import read_words

    serial = build_corpus(_config(verses_tsv, max_verses=2, repeats=2), tmp_path / "a", workers=1)
    parallel = build_corpus(_config(verses_tsv, max_verses=2, repeats=2), tmp_path / "b", workers=2)
    assert serial["counts"]["utterances"] == parallel["counts"]["utterances"] == 4
    rows = (tmp_path / "a" / "segments.tsv").read_text().splitlines()[1:]
    speakers_by_item: dict[str, set] = {}
    for line in rows:
        row = dict(zip(SEGMENT_COLUMNS, line.split("\t")))
        speakers_by_item.setdefault(row["item_id"], set()).add(row["speaker"])
        a, b = sf.info(str(tmp_path / "a" / row["wav"])), sf.info(str(tmp_path / "b" / row["wav"]))
        assert a.frames == pytest.approx(b.frames, rel=0.01)
        assert read_words(tmp_path / "a" / row["textgrid"]) == read_words(tmp_path / "b" / row["textgrid"])
    assert all(len(s) == 2 for s in speakers_by_item.values())


def test_chapter_parity_and_token_limit(verses_tsv):
    odd = read_text_items(verses_tsv, chapters="odd")
    assert [i.chapter for i in odd] == [1, 1, 3]
    even = read_text_items(verses_tsv, chapters="even")
    assert [i.item_id for i in even] == ["B01C002V001"]
    limited = read_text_items(verses_tsv, max_tokens=12)
    assert [i.n_tokens for i in limited] == [10, 8]  # stops after the verse that reaches 12


def test_bad_inputs_give_clear_errors(tmp_path, verses_tsv):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"empty\.txt: no text lines with words"):
        build_corpus(_config(empty), tmp_path / "c1", workers=1)
    with pytest.raises(InputFileError, match="file not found"):
        build_corpus(_config(tmp_path / "missing.txt"), tmp_path / "c2", workers=1)
    bad = tmp_path / "bad.tsv"
    bad.write_text("1\t1\t1\tfine\n1\tone\t2\ttext\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"bad\.tsv:2: book, chapter and verse"):
        read_text_items(bad)
    with pytest.raises(WordbridgeError, match=r"no voice for language 'klingon'; available: .*\bes\b"):
        build_corpus(_config(verses_tsv, language="klingon"), tmp_path / "c3", workers=1)
    with pytest.raises(WordbridgeError, match="--repeats"):
        build_corpus(_config(verses_tsv, repeats=4), tmp_path / "c4", workers=1)
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "thesis.docx").write_text("x")
    with pytest.raises(WordbridgeError, match="not empty and holds no corpus.json"):
        build_corpus(_config(verses_tsv), busy, workers=1)


def test_synth_config_from_options_as_the_command_and_experiments_name_them():
    config = synth_config({"text": "bible.tsv", "noise_snr": "10-30", "reverb": 1, "pad": "0.5", "speakers": 6})
    assert config == SynthConfig(text_path="bible.tsv", noise_snr=(10.0, 30.0), reverb_rt60=1.0, pad_s=0.5,
                                 speakers=6)
    assert synth_config({"text": "a.txt", "noise_snr": 20}).noise_snr == (20.0, 20.0)
    assert synth_config({"text": "a.txt"}) == SynthConfig(text_path="a.txt")
    with pytest.raises(WordbridgeError, match="unknown synthesis option.*workers"):
        synth_config({"text": "a.txt", "workers": 2})


def test_command_line(tmp_path, verses_tsv, capsys):
    from core.cli import main

    out = tmp_path / "corpus"
    code = main(["synthesize", str(verses_tsv), "--out", str(out), "--speakers", "2",
                 "--held-out-speakers", "1", "--max-verses", "2", "--workers", "1", "--quiet",
                 "--noise-snr", "15-25", "--reverb", "0.3"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "synthetic corpus" in printed and "2 utterances" in printed and "held out: spk001" in printed
    meta = json.loads((out / "corpus.json").read_text())
    assert meta["augmentation"] == {"snr_db": [15.0, 25.0], "reverb_rt60": 0.3}
    code = main(["synthesize", str(verses_tsv), "--out", str(tmp_path / "x"), "--language", "zz"])
    assert code == 2
    assert "error: espeak-ng has no voice for language 'zz'" in capsys.readouterr().err
