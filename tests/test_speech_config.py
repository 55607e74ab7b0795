"""SpeechConfig loading: settings of earlier versions stay loadable, unknown ones are errors."""

import json

import pytest

from core.errors import WordbridgeError
from core.speech.config import SpeechConfig, load_config


def test_removed_sg_lr_is_accepted_and_dropped(tmp_path):
    # run folders and config files written before the Adam skip-gram was removed store sg_lr
    stored = {**SpeechConfig(learner="unit-skipgram", sg_epochs=3).to_dict(), "sg_lr": 0.005}
    cfg = SpeechConfig.from_dict(stored)
    assert cfg.learner == "unit-skipgram" and cfg.sg_epochs == 3
    assert "sg_lr" not in cfg.to_dict() and not hasattr(cfg, "sg_lr")
    path = tmp_path / "config.json"
    path.write_text(json.dumps(stored))
    assert load_config(path) == cfg
    toml = tmp_path / "old.toml"
    toml.write_text('learner = "unit-skipgram"\nsg_lr = 0.005\n')
    assert load_config(toml).learner == "unit-skipgram"


def test_unknown_setting_is_still_an_error(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"sg_lr": 0.005, "sg_rate": 0.1}))
    with pytest.raises(WordbridgeError, match=r"bad\.json: unknown setting\(s\): sg_rate$"):
        load_config(path)
