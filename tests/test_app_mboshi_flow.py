"""Issue 16, Deliver 7 on a small slice, offscreen, through the app's dialogs and actions:
new project → Build speech corpus (reader mboshi, train split) → Train speech space (unit-skipgram,
A) → Text ▸ Add text space (Mboshi transcripts, French translations) → Align (selflearn) → lexicon:
confirm pairs → Refine → Import annotated recording (a dev utterance) → Export labels (TextGrid +
ELAN) read back → reopen.

The corpus is a tiny fake in the Mboshi layout (utterances.tsv, words.tsv, audio/*.opus) spoken by
espeak-ng (core.synth), written here; the real corpus in ../shared/data is never read. As in the
real corpus, words.tsv drops accents that the transcripts have (`wo` for `wó`)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")
pytest.importorskip("espeakng_loader")
pytestmark = pytest.mark.gui

import torch  # noqa: E402

torch.set_num_threads(1)
SR = 16000
# words.tsv spelling → transcript spelling (accents), and a French gloss for the translations
LEXICON = {"kyema": ("kyéma", "singe"), "ikoo": ("ikóó", "vend"), "wo": ("wó", "que"), "adi": ("adí", "est"),
           "mo": ("mó", "moi"), "ndee": ("ndée", "il"), "bisi": ("bísí", "nous"), "tsina": ("tsína", "fin"),
           "posa": ("pósá", "faim"), "ngoo": ("ngóo", "mère"), "oyuru": ("oyúru", "pluie"), "bvua": ("bvúa", "chien")}
TINY = {"ac_hidden": 32, "ac_dim": 16, "max_frames": 60}


def sentences(n: int, seed: int) -> list[list[str]]:
    """Two 'topics' of six words each, so that skip-gram has co-occurrences to learn."""
    rng = np.random.default_rng(seed)
    words = list(LEXICON)
    topics = [words[:6], words[6:]]
    return [list(rng.choice(topics[i % 2], int(rng.integers(3, 6)))) for i in range(n)]


def make_mboshi_slice(root: Path, n_train: int = 30, n_dev: int = 3) -> Path:
    """A Mboshi-layout corpus spoken by two espeak-ng voices: train and dev utterances."""
    import soundfile as sf

    from core.synth.synthesize import synthesize_utterance
    from core.synth.voices import VoiceSpec

    voices = {"abiayi": VoiceSpec("abiayi", "en", "en-US", "", 160, 45, 40),
              "kouarata": VoiceSpec("kouarata", "en", "en-US", "", 135, 70, 60)}
    (root / "audio").mkdir(parents=True)
    utts = ["utterance\tspeaker\tsplit\tmboshi\tfrench"]
    times = ["utterance\tstart_s\tend_s\tword"]
    for k, words in enumerate(sentences(n_train + n_dev, seed=3)):
        speaker = "abiayi" if k % 3 else "kouarata"
        split = "train" if k < n_train else "dev"
        utt = f"{speaker}_{k:03d}"
        samples, timings = synthesize_utterance(" ".join(words), voices[speaker], pad_s=0.2)
        sf.write(str(root / "audio" / f"{utt}.opus"), samples, SR, format="OGG", subtype="OPUS")
        utts.append(f"{utt}\t{speaker}\t{split}\t{' '.join(LEXICON[w][0] for w in words)}\t"
                    f"{' '.join(LEXICON[w][1] for w in words)} .")
        times += [f"{utt}\t{s:.3f}\t{e:.3f}\t{w}" for (w, s, e) in timings]
    (root / "utterances.tsv").write_text("\n".join(utts) + "\n", encoding="utf-8")
    (root / "words.tsv").write_text("\n".join(times) + "\n", encoding="utf-8")
    return root


def text_files(corpus: Path, folder: Path) -> tuple[Path, Path]:
    """The train split's transcripts and translations as plain text (what Text ▸ Add text space reads)."""
    rows = [line.split("\t") for line in (corpus / "utterances.tsv").read_text(encoding="utf-8").splitlines()[1:]]
    mbo, fr = folder / "mboshi.txt", folder / "french.txt"
    mbo.write_text("\n".join(r[3] for r in rows if r[2] == "train") + "\n", encoding="utf-8")
    fr.write_text("\n".join(r[4] for r in rows if r[2] == "train") + "\n", encoding="utf-8")
    return mbo, fr


@pytest.fixture
def answers(monkeypatch):
    """Questions are answered Yes (keep a refined map); warnings are recorded, never shown."""
    from PySide6.QtWidgets import QMessageBox

    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda parent, title, *a, **k: asked.append(title) or QMessageBox.Yes)
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a, **k: asked.append(f"{title}: {text}"))
    return asked


def _wait_job(qtbot, job, timeout=30000):
    assert job is not None
    qtbot.waitUntil(lambda: job.state != "running", timeout=timeout)
    assert job.state == "done", job.log.toPlainText()


def _add_text_space(qtbot, window, path: Path, language: str) -> None:
    dialog = window.text_space_dialog()
    dialog.path.setText(str(path))
    dialog.language.setText(language)
    dialog.min_count.setValue(1)
    dialog.epochs.setValue(10)
    assert dialog.space_id.text() == f"text-{language}"
    _wait_job(qtbot, dialog.start())


def test_mboshi_slice_start_to_end_in_the_app(qtbot, settle, app_settings, tmp_path, answers):
    from app.main_window import MainWindow
    from core.label_export import read_annotation
    from core.lexicon_export import Interval, write_textgrid

    corpus = make_mboshi_slice(tmp_path / "mboshi")
    window = MainWindow(app_settings)
    qtbot.addWidget(window, before_close_func=lambda w: w.finish_workers())

    # Project ▸ New
    assert window.new_project(str(tmp_path / "proj"), name="Mboshi slice")
    project = window.session.project

    # Train ▸ Build speech corpus…: reader mboshi, its train split
    dialog = window.corpus_dialog()
    dialog.source.setText(str(corpus))
    dialog.reader.setCurrentText("mboshi")
    split = dialog.reader_options["mboshi"].widgets["split"]
    assert [split.itemText(i) for i in range(split.count())] == ["train", "dev", "all"]
    split.setCurrentText("train")
    dialog.name.setText("mboshi-train")
    assert dialog.request()["options"] == {"split": "train"}
    job = dialog.start()
    _wait_job(qtbot, job)
    dev = {r.split("\t")[0] for r in (corpus / "utterances.tsv").read_text(encoding="utf-8").splitlines()
           if r.split("\t")[2] == "dev"}
    n_train = sum(line.split("\t")[0] not in dev
                  for line in (corpus / "words.tsv").read_text(encoding="utf-8").splitlines()[1:])
    assert f"{n_train} segments" in job.log.toPlainText()

    # Train ▸ Train speech space…: unit-skipgram, configuration A (types = the given word labels)
    settings = tmp_path / "tiny.json"
    settings.write_text(json.dumps(TINY))
    train = window.train_speech_dialog()
    assert train.store_path() == str(project.root / "corpora" / "mboshi-train")
    assert train.learner.currentText() == "unit-skipgram" and train.grouping.currentText() == "A"
    train.settings_file.setText(str(settings))
    train.epochs.setValue(1)
    train.sg_epochs.setValue(5)
    train.batch.setValue(32)
    train.language.setText("mbo")
    train.space_id.setText("speech-mbo")
    train.device.setCurrentText("cpu")
    _wait_job(qtbot, train.start())
    speech = project.space("speech-mbo")
    assert sorted(speech.words) == sorted(LEXICON)  # configuration A: one type per given label

    # Text ▸ Add text space…: the Mboshi transcripts and the French translations of the train split
    mbo_txt, fr_txt = text_files(corpus, tmp_path)
    _add_text_space(qtbot, window, mbo_txt, "mbo")
    _add_text_space(qtbot, window, fr_txt, "fr")
    assert set(project.space("text-mbo").words) == {v[0] for v in LEXICON.values()}

    # Train ▸ Align spaces…: speech → Mboshi text without supervision (selflearn, the CPU default)
    align = window.align_dialog()
    assert align.text.currentData() == "text-mbo"  # the text space in the speech's language
    align.method.setCurrentText("selflearn")
    align.restarts.setValue(1)
    align.device.setCurrentText("cpu")
    _wait_job(qtbot, align.start(), timeout=60000)
    assert [m.id for m in project.manifest.mappings] == ["speech-mbo__text-mbo"]

    # the lexicon: a linguist confirms the true written word of the 4 most frequent types
    lex = window.lexicon
    qtbot.waitUntil(lambda: lex.model.rowCount() == len(LEXICON), timeout=30000)
    top = [lex.model.speech_type(r) for r in range(4)]
    for speech_type in top:
        row = next(r for r in range(lex.model.rowCount()) if lex.model.speech_type(r) == speech_type)
        lex.model.setData(lex.model.index(row, 1), LEXICON[speech_type][0])  # correct (or keep) the word
        row = next(r for r in range(lex.model.rowCount()) if lex.model.speech_type(r) == speech_type)
        lex.table.selectRow(row)
        lex.decide_selected("confirmed")
    pairs = {p.speech_ref: (p.text_word, p.status) for p in project.confirmed_pairs()}
    assert {t: w for t, (w, _) in pairs.items()} == {t: LEXICON[t][0] for t in top}
    assert {s for _, s in pairs.values()} <= {"confirmed", "corrected"}

    # Refine with the confirmed pairs (in the background)
    worker = lex.refine()
    settle(worker, 30000)
    assert lex.last_refine is not None and lex.last_refine.n_pairs == 4, lex.criterion.text()
    qtbot.waitUntil(lambda: window.session.classifier is not None and lex.model.rowCount() == len(LEXICON),
                    timeout=30000)

    # Project ▸ Import annotated recording…: a dev utterance with its given word times
    from core.audio import load_audio, save_wav

    dev_utt = sorted(dev)[0]
    samples, sr = load_audio(corpus / "audio" / f"{dev_utt}.opus")
    given = [line.split("\t") for line in (corpus / "words.tsv").read_text(encoding="utf-8").splitlines()
             if line.startswith(dev_utt + "\t")]
    folder = tmp_path / "annotated"
    folder.mkdir()
    save_wav(folder / f"{dev_utt}.wav", samples, sr)
    write_textgrid(folder / f"{dev_utt}.TextGrid", {"words": [Interval(float(s), float(e), w) for _, s, e, w in given]},
                   len(samples) / sr)
    importing = window.import_annotated(str(folder / f"{dev_utt}.TextGrid"))
    settle(importing, 15000)
    assert len(project.recordings()) == 1 and len(project.segments(project.recordings()[0].id)) == len(given)

    # Export labels…: TextGrid (tier "words") + ELAN .eaf + WAV, read back by our own reader
    out = tmp_path / "labels"
    out.mkdir()
    assert lex.export_labels(str(out)) == 1
    grid, eaf = read_annotation(out / f"{dev_utt}.TextGrid"), read_annotation(out / f"{dev_utt}.eaf")
    assert len(grid) == len(eaf) == len(given)
    assert [(a.label, round(a.start, 2)) for a in grid] == [(b.label, round(b.start, 2)) for b in eaf]
    assert {a.label for a in grid} <= set(project.space("text-mbo").words)  # written Mboshi words
    assert (out / f"{dev_utt}.wav").is_file()

    # reopen: spaces, map, decisions and the recording are all there
    assert window.open_project(project.root)
    reopened = window.session.project
    assert {s.id for s in reopened.manifest.spaces} == {"speech-mbo", "text-mbo", "text-fr"}
    assert len(reopened.recordings()) == 1
    qtbot.waitUntil(lambda: lex.model.rowCount() == len(LEXICON), timeout=30000)
    statuses = {lex.model.speech_type(r): lex.model.data(lex.model.index(r, 3)) for r in range(lex.model.rowCount())}
    assert all(statuses[t] in ("confirmed", "corrected") for t in top)
    assert sum(s == "unreviewed" for s in statuses.values()) == len(LEXICON) - 4
    assert not [a for a in answers if ":" in a]  # no warning was shown
