"""People's voices: recognising words said by real people, not only by synthetic voices.

    clips        word clips: synthetic words said alone, and words cut from any corpus's utterances
    microphone   random real-microphone conditions (telephone band, noise, reverberation, level,
                 clipping, speed) applied to a clip
    frameset     front-end frames of many clips (+ simulated copies) in one array; safetensors on disk
    recognizer   the acoustic encoder trained on synthetic and real speech together, type centroids
    confidence   calibrated confidence and "no good match"
    evaluate     top-1 / top-10 over a vocabulary, closed sets (digits), baselines, through a text map
    experiment   the whole "people's voices" run behind docs/RESULTS.md's table
    package      a trained recogniser as a project's speech encoder
    fusion       two recognisers in one encoder, types ranked by a weighted sum of their cosines
"""
