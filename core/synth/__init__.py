"""Synthetic multi-voice speech corpora from text, made with espeak-ng (via `espeakng-loader`).

Everything produced here is labelled synthetic. Public entry points:
- `core.synth.synthesize.synthesize_utterance(text, voice)` → 16 kHz audio + word timings
- `core.synth.voices.voice_for_speaker / make_speakers` → deterministic `VoiceSpec`s
- `core.synth.builder.build_corpus(SynthConfig, out_dir)` → WAV + TextGrid corpus
Modules import espeak, scipy and soundfile only inside the functions that need them.
"""
