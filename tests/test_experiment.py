"""`experiment` end to end on a ~60-token synthetic corpus: every stage, the report, caching, resume."""

import json

import pytest
import torch

from core.cli import main
from core.pipeline.config import load_experiment
from core.pipeline.experiment import Runtime, plan_experiment, run_experiment

pytest.importorskip("espeakng_loader")
torch.set_num_threads(1)

VERSES = ["In the beginning God created the heaven and the earth.",
          "And God said, Let there be light: and there was light.",
          "And God saw the light, that it was good.",
          "And the evening and the morning were the first day.",
          "And God called the light Day, and the darkness he called Night."]
FRENCH = ["Au commencement, Dieu créa les cieux et la terre.",
          "Dieu dit: Que la lumière soit! Et la lumière fut.",
          "Dieu vit que la lumière était bonne.",
          "Ainsi, il y eut un soir, et il y eut un matin: ce fut le premier jour."]
CONFIG = """
name = "tiny"
seeds = [0]
device = "cpu"
[corpus]
text = "en.tsv"
chapters = "odd"
speakers = 3
held_out_speakers = 1
repeats = 2
workers = 1
[features]
chunk_seconds = 0.3
[speech]
configurations = ["A*", "A", "B", "VAD", "F"]
[speech.speech2vec]
epochs = 1
dim = 8
s2v_hidden = 8
batch_size = 64
max_frames = 30
clusters = 6
[speech.unit-skipgram]
dim = 8
ac_epochs = 1
ac_hidden = 16
ac_dim = 8
batch_size = 64
max_frames = 30
clusters = 6
sg_epochs = 1
[text_training]
dim = 8
epochs = 1
min_count = 1
backend = "torch"
[[text]]
name = "en"
path = "en.tsv"
chapters = "odd"
[[text]]
name = "fr"
path = "fr.txt"
language = "fr"
task = "translation"
dictionary = "en-fr.txt"
[align]
restarts = 1
adv_epochs = 1
adv_epoch_size = 256
dis_hidden_dim = 16
"""


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    root = tmp_path_factory.mktemp("exp")
    (root / "en.tsv").write_text("".join(f"1\t1\t{i}\t{v}\n" for i, v in enumerate(VERSES, 1)), encoding="utf-8")
    (root / "fr.txt").write_text("\n".join(FRENCH) + "\n", encoding="utf-8")
    (root / "en-fr.txt").write_text("god dieu\nlight lumière\nearth terre\nday jour\nthe la\nand et\n"
                                    "beginning commencement\ncreated créa\nheaven cieux\nsaid dit\nevening soir\n"
                                    "morning matin\nfirst premier\ngood bonne\nsaw vit\nwas fut\nbe soit\n",
                                    encoding="utf-8")
    (root / "tiny.toml").write_text(CONFIG, encoding="utf-8")
    return root


def test_runs_end_to_end_and_writes_every_number(experiment, capsys):
    out = experiment / "run"
    assert main(["experiment", str(experiment / "tiny.toml"), "--out", str(out), "--quiet"]) == 0
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    evals = metrics["evaluations"]
    assert len(evals) == 2 * 5 * 2  # learners × configurations × text spaces
    for e in evals:
        s = e["scores"]
        assert s["test_segments"] > 0 and 0 <= s["coverage"] <= 1
        keys = ("accuracy_nn", "accuracy_csls") if e["task"] == "classification" else ("p@1_csls", "p@5_nn")
        assert all(s[k] is None or 0.0 <= s[k] <= 1.0 for k in keys)
        assert (out / "stages" / e["stage"] / "mapping.safetensors").is_file()
    star = [e for e in evals if e["configuration"] == "A*"]
    assert {e["alignment"]["method_used"] for e in star} == {"supervised"} and all(e["seed_pairs"] >= 2 for e in star)
    classified = [e for e in evals if e["task"] == "classification" and e["configuration"] in ("A*", "A", "B")]
    assert all(e["scores"]["evaluated"] > 0 for e in classified)
    table = (out / "results.md").read_text(encoding="utf-8")
    assert "Spoken word classification" in table and "Spoken word translation" in table and "| VAD |" in table
    corpus = json.loads(next((out / "stages").glob("corpus-*/corpus/corpus.json")).read_text(encoding="utf-8"))
    assert corpus["synthetic"] is True


def test_rerun_skips_finished_stages_and_a_removed_stage_runs_again(experiment):
    out = experiment / "run"
    cfg = load_experiment(experiment / "tiny.toml")
    plan = plan_experiment(cfg, Runtime(device="cpu"))
    markers = {s.name: (s.folder(out) / "stage.json").stat().st_mtime_ns
               for kind in plan.stages.values() for s in kind}
    victim = plan.stages["eval"][3]
    (victim.folder(out) / "stage.json").unlink()  # as if killed before finishing
    run_experiment(cfg, out, Runtime(device="cpu"))
    for kind in plan.stages.values():
        for s in kind:
            changed = (s.folder(out) / "stage.json").stat().st_mtime_ns != markers[s.name]
            assert changed == (s is victim), s.name


def test_stage_selection_and_bad_stage_name(experiment, capsys):
    out = experiment / "partial"
    assert main(["experiment", str(experiment / "tiny.toml"), "--out", str(out), "--stages", "text", "--quiet"]) == 0
    assert sorted(p.name.split("-")[0] for p in (out / "stages").iterdir()) == ["text", "text"]
    assert not (out / "metrics.json").exists()
    assert main(["experiment", str(experiment / "tiny.toml"), "--out", str(out), "--stages", "bogus"]) == 2
    assert "unknown stage kind 'bogus'" in capsys.readouterr().err


def test_seeds_and_learners_can_be_narrowed_on_the_command_line(experiment, capsys):
    config = str(experiment / "tiny.toml")
    assert main(["experiment", config, "--out", str(experiment / "n"), "--dry-run",
                 "--seeds", "3,4", "--learners", "unit-skipgram"]) == 0
    speech = [line.split()[-1] for line in capsys.readouterr().out.splitlines() if "speech-" in line]
    assert speech and all(name.startswith("speech-unit-skipgram-") for name in speech)
    assert {name.split("-")[-2] for name in speech} == {"s3", "s4"}
    assert main(["experiment", config, "--out", str(experiment / "n"), "--seeds", "x"]) == 2
    assert "--seeds must be comma-separated integers" in capsys.readouterr().err
    assert main(["experiment", config, "--out", str(experiment / "n"), "--learners", "word2vec"]) == 2
    assert "'word2vec' is not a learner of this config" in capsys.readouterr().err


def test_features_frontend_takes_the_command_line_spelling(experiment):
    """features.frontend = "ssl:PATH" (as --frontend spells it) means the table {name = "ssl", path = PATH};
    it was read as a front end named "ssl:PATH" and failed at the features stage (session 16)."""
    cfg = load_experiment(experiment / "tiny.toml")
    for spelling, expected in (("ssl:/models/m.safetensors", {"name": "ssl", "path": "/models/m.safetensors"}),
                               ("speech-embedding", {"name": "speech-embedding"}),
                               ({"name": "ssl", "path": "m.safetensors"}, {"name": "ssl", "path": "m.safetensors"})):
        cfg.features["frontend"] = spelling
        stage = plan_experiment(cfg, Runtime(device="cpu")).stages["features"][0]
        assert stage.settings["frontend"] == expected


def test_a_translation_through_a_pivot_text_uses_that_texts_evaluation(experiment):
    config = (CONFIG.replace('configurations = ["A*", "A", "B", "VAD", "F"]', 'learners = ["unit-skipgram"]\n'
                                                                             'configurations = ["B"]')
              .replace('dictionary = "en-fr.txt"', 'dictionary = "en-fr.txt"\n[[text]]\nname = "fr_pivot"\n'
                       'path = "fr.txt"\nlanguage = "fr"\ntask = "translation"\ndictionary = "en-fr.txt"\npivot = "en"'))
    (experiment / "pivot.toml").write_text(config, encoding="utf-8")
    out = experiment / "run_pivot"
    assert main(["experiment", str(experiment / "pivot.toml"), "--out", str(out), "--quiet"]) == 0
    evals = {e["text"]: e for e in json.loads((out / "metrics.json").read_text(encoding="utf-8"))["evaluations"]}
    assert set(evals) == {"en", "fr", "fr_pivot"}
    pivot = evals["fr_pivot"]
    assert pivot["pivot"] == "en" and "pivot" not in evals["fr"]
    assert all(0.0 <= pivot["scores"][k] <= 1.0 for k in ("p@1_csls", "p@1_nn", "p@5_csls"))
    stage = json.loads((out / "stages" / pivot["stage"] / "stage.json").read_text(encoding="utf-8"))
    assert stage["settings"]["pivot"] == "en"
    # the pivot's map is the English evaluation's: removing that evaluation makes both run again
    cfg = load_experiment(experiment / "pivot.toml")
    plan = plan_experiment(cfg, Runtime())
    stages = {s.name: s for s in plan.stages["eval"]}
    assert stages[evals["en"]["stage"].rsplit("-", 1)[0]] in stages[pivot["stage"].rsplit("-", 1)[0]].needs


def test_vad_configuration_can_cut_at_energy_valleys(experiment, capsys):
    """[features] segmenter = "energy": the VAD configuration's segments come from the energy reader
    (pauses + energy valleys), its options reach that reader, and the evaluation scores them by overlap."""
    config = (CONFIG.replace('configurations = ["A*", "A", "B", "VAD", "F"]', 'learners = ["unit-skipgram"]\n'
                                                                             'configurations = ["VAD"]')
              .replace("chunk_seconds = 0.3", 'segmenter = "energy"\nmax_word = 0.4\nvalley_db = 2.0'))
    (experiment / "energy.toml").write_text(config, encoding="utf-8")
    cfg = load_experiment(experiment / "energy.toml")
    plan = plan_experiment(cfg, Runtime(device="cpu"))
    features = {s.name: s.settings for s in plan.stages["features"]}
    assert sorted(features) == ["features-energy", "features-textgrid"]
    assert features["features-energy"]["options"] == {"max_word": 0.4, "valley_db": 2.0}
    out = experiment / "run_energy"
    assert main(["experiment", str(experiment / "energy.toml"), "--out", str(out), "--quiet"]) == 0
    evals = json.loads((out / "metrics.json").read_text(encoding="utf-8"))["evaluations"]
    assert [e["configuration"] for e in evals] == ["VAD", "VAD"]
    assert all(e["scores"]["test_segments"] > 0 for e in evals)
    (experiment / "bad_segmenter.toml").write_text(config.replace('segmenter = "energy"', 'segmenter = "bes-gmm"'),
                                                   encoding="utf-8")
    assert main(["experiment", str(experiment / "bad_segmenter.toml"), "--out", str(out), "--quiet"]) == 2
    assert "[features] segmenter must be vad or energy, got 'bes-gmm'" in capsys.readouterr().err
