"""Issue 17: `train-speech` at its defaults on a CPU. Speech2Vec's sizes that the user named nowhere
are CPU-sized (core.speech.config.CPU_SIZES) with one printed line naming how to get the paper's;
explicit options, a config file and --paper-settings win; on a GPU nothing changes; config.json
records what was CPU-sized; a CPU run logs an estimate after its first step. unit-skipgram's
encoder epochs and batch size are CPU-sized the same way (core.speech.config.UNIT_SKIPGRAM_CPU_SIZES). No timing
asserts."""

import json

import pytest
import torch

import main
from core.cli import build_parser
from core.commands.speech import _started_with_paper_sizes, config_and_cpu_sizing, cpu_sized_note
from core.speech.config import CPU_SIZES, UNIT_SKIPGRAM_CPU_SIZES, SpeechConfig, preset
from core.speech.training import estimate_line

PAPER = SpeechConfig()


def sizing(monkeypatch, *options, cuda=False):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    parser, _ = build_parser()
    cfg, sized, _ = config_and_cpu_sizing(parser.parse_args(["train-speech", "STORE", "--out", "RUN", *options]))
    return cfg, sized


def sizes(cfg):
    return {key: getattr(cfg, key) for key in CPU_SIZES}


@pytest.mark.parametrize("options", [(), ("--device", "cpu")])
def test_on_a_cpu_the_defaults_are_cpu_sized_and_the_note_names_the_paper_settings(monkeypatch, options):
    cfg, sized = sizing(monkeypatch, *options)
    assert sizes(cfg) == CPU_SIZES
    assert cfg.learner == "speech2vec" and cfg.optimizer == PAPER.optimizer and cfg.lr == PAPER.lr
    assert cfg.dim == PAPER.dim and cfg.s2v_window == PAPER.s2v_window  # only the sizes change
    assert sized == {key: {"used": CPU_SIZES[key], "paper": getattr(PAPER, key)} for key in CPU_SIZES}
    note = cpu_sized_note(sized)
    assert "\n" not in note and "--paper-settings" in note
    assert f"--batch-size {PAPER.batch_size}" in note and f"--epochs {PAPER.epochs}" in note
    assert f"--hidden {PAPER.s2v_hidden}" in note


def test_on_a_gpu_the_paper_sizes_stay(monkeypatch):
    cfg, sized = sizing(monkeypatch, cuda=True)
    assert sized == {} and cfg == SpeechConfig(device="auto")
    cfg, sized = sizing(monkeypatch, "--device", "cuda", cuda=True)
    assert sized == {} and sizes(cfg) == sizes(PAPER)
    cfg, sized = sizing(monkeypatch, "--device", "cpu", cuda=True)  # a CPU run on a GPU machine is a CPU run
    assert sizes(cfg) == CPU_SIZES


def test_explicit_options_a_config_file_and_paper_settings_win(monkeypatch, tmp_path):
    cfg, sized = sizing(monkeypatch, "--paper-settings")
    assert sized == {} and sizes(cfg) == sizes(PAPER)
    cfg, sized = sizing(monkeypatch, "--epochs", "7", "--batch-size", "1024")
    assert (cfg.epochs, cfg.batch_size, cfg.s2v_hidden) == (7, 1024, CPU_SIZES["s2v_hidden"])
    assert list(sized) == ["s2v_hidden"]
    assert "--hidden 256" in cpu_sized_note(sized) and "--epochs" not in cpu_sized_note(sized)
    cfg, sized = sizing(monkeypatch, "--hidden", "256", "--epochs", "10", "--batch-size", "1024")
    assert sized == {} and sizes(cfg) == sizes(PAPER)  # typed even though equal to the defaults
    settings = tmp_path / "s.toml"
    settings.write_text("s2v_hidden = 32\nepochs = 10\n")
    cfg, sized = sizing(monkeypatch, "--config-file", str(settings))
    assert (cfg.s2v_hidden, cfg.epochs, cfg.batch_size) == (32, 10, CPU_SIZES["batch_size"])
    assert list(sized) == ["batch_size"]


def test_unit_skipgram_on_a_cpu_trains_fewer_encoder_epochs(monkeypatch):
    unit = SpeechConfig.from_dict({**preset("unit-skipgram").to_dict()})
    cfg, sized = sizing(monkeypatch, "--learner", "unit-skipgram")
    assert sized == {key: {"used": size, "paper": getattr(unit, key)} for key, size in UNIT_SKIPGRAM_CPU_SIZES.items()}
    assert (cfg.ac_epochs, cfg.batch_size) == (UNIT_SKIPGRAM_CPU_SIZES["ac_epochs"], UNIT_SKIPGRAM_CPU_SIZES["batch_size"])
    assert (cfg.ac_hidden, cfg.clusters, cfg.sg_epochs, cfg.lr, cfg.ac_lr) == \
        (unit.ac_hidden, unit.clusters, unit.sg_epochs, unit.lr, unit.ac_lr)  # only the encoder's sizes change
    note = cpu_sized_note(sized, "unit-skipgram")
    assert note == ("note: training on the CPU, so unit-skipgram is CPU-sized (epochs 3, batch size 128; its "
                    "defaults: 10, 1024, which take ~8-9 min for 3,000 word segments on 2 cores); for the defaults "
                    "add --paper-settings (or --epochs 10 --batch-size 1024)")
    for options in (("--paper-settings",), ("--device", "cuda")):
        cfg, sized = sizing(monkeypatch, "--learner", "unit-skipgram", *options)
        assert sized == {} and (cfg.ac_epochs, cfg.batch_size) == (unit.ac_epochs, unit.batch_size)
    cfg, sized = sizing(monkeypatch, "--learner", "unit-skipgram", "--epochs", "7")  # typed: kept
    assert list(sized) == ["batch_size"] and (cfg.ac_epochs, cfg.batch_size) == (7, 128)
    cfg, _ = sizing(monkeypatch, "--learner", "unit-skipgram", "--hidden", "64")
    assert cfg.ac_hidden == 64 and cfg.s2v_hidden == PAPER.s2v_hidden


def test_a_run_begun_with_the_paper_sizes_is_recognised(tmp_path):
    _, sized, _ = config_and_cpu_sizing(build_parser()[0].parse_args(
        ["train-speech", "S", "--out", "R", "--device", "cpu"]))
    assert not _started_with_paper_sizes(tmp_path, sized)  # no run there
    (tmp_path / "config.json").write_text(json.dumps({"speech": PAPER.to_dict()}))
    assert _started_with_paper_sizes(tmp_path, sized)
    (tmp_path / "config.json").write_text(json.dumps({"speech": {**PAPER.to_dict(), **CPU_SIZES}}))
    assert not _started_with_paper_sizes(tmp_path, sized)
    (tmp_path / "config.json").write_text("{not json")
    assert not _started_with_paper_sizes(tmp_path, sized)


def test_estimate_line_names_steps_and_seconds():
    assert estimate_line("speech2vec", 29.2, 29) == \
        "speech2vec: about 14 min more on this machine (29 steps × 29.2 s, the time of the first step)"
    assert "about 12 s more" in estimate_line("acoustic", 0.4, 30)


def test_cpu_run_prints_the_note_records_it_and_logs_an_estimate(tmp_path, capsys):
    from tests.test_speech_cli import make_toy_corpus, write_store

    store = tmp_path / "toy"
    write_store(store, make_toy_corpus(n_types=4, n_utterances=12, words_per_utterance=4, mean_frames=10))
    run = tmp_path / "run"
    assert main.main(["train-speech", str(store), "--out", str(run), "--device", "cpu", "--quiet"]) == 0
    out, err = capsys.readouterr()
    notes = [line for line in out.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "--paper-settings" in notes[0] and "for the paper's sizes add" in notes[0]
    printed = out + err  # log lines go through tqdm.write (stdout) once a bar exists
    assert "more on this machine" in printed and "the time of the first step" in printed
    config = json.loads((run / "config.json").read_text())
    assert sizes(SpeechConfig.from_dict(config["speech"])) == CPU_SIZES
    assert config["cpu_sized"]["batch_size"] == {"used": CPU_SIZES["batch_size"], "paper": PAPER.batch_size}
    assert "CPU-sized by the command line" in (run / "log.txt").read_text()
    # the same folder with the paper's settings: refused with one line, nothing overwritten
    assert main.main(["train-speech", str(store), "--out", str(run), "--device", "cpu", "--quiet",
                      "--paper-settings"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "other settings" in err and "Traceback" not in err
