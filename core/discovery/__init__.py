"""Words without labels (issue 18): how well front ends tell words apart across speakers
(`same_different`), the ZeroSpeech 2017 track 2 measures of spoken-term discovery (`zrc_eval`),
and a simple term-discovery baseline (`term_discovery`)."""
