"""Runs an experiment's stages from a config, caching each stage's outputs and resuming killed runs."""
