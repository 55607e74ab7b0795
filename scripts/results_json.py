"""Write docs/results.json: every headline number of docs/RESULTS.md, read from its run's metrics.json.

    .venv/bin/python scripts/results_json.py [--check]

A flat JSON object, key → number, keys as the issues name them, every value a PERCENTAGE (0–100,
NED included). Each key is read from the run folder named in SOURCES below, so a number in the file
can always be traced to the run that made it; a key whose run folder is missing is left out and
named on stderr. `--check` compares the file on disk with what the run folders say (exit code 1 on
a difference) instead of writing.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = ROOT / "docs" / "runs"
VOICES = "2026-12-06-s10-h100-voices-se-real"  # trained on the H100, evaluated on the CPU
FUSED = "2026-12-06-s12-cpu-voices-fusion/metrics.json"  # SE + MFCC recognisers fused (w chosen on calibration)
FUSED_TEST = ["test", "cosine:0.6"]
SE_500K = "2026-12-06-s11-h200-kjv_500k_se"
S18 = "2026-12-06-s18-gpu-encoder-merge"  # B at 500k, GPU-sized encoder; voices normalised (session 18)
S19 = "2026-12-07-s19-normalised-pairs"  # B at 500k: the shared space's types as training pairs (sessions 19-20)
S21 = "2026-12-07-s21-map-search"  # B at 500k aligns: joined types, voices regressed out, GW start (session 21)
S22 = "2026-12-07-s22-voice-groups"  # B at 500k aligns from the runner alone: voice groups (session 22)
S23_PIVOT = "2026-12-07-s23-app-pivot"  # one pivot decoding for the app and the experiment (session 23)
S23_VAD = "2026-12-07-s23-energy-vad"  # VAD segments cut at energy valleys (session 23)
S24_VAD = "2026-12-08-s24-eskmeans"  # VAD segments cut at every energy valley (session 24)
S25 = "2026-12-07-s25-context"  # B seeds 1-2 on the GPU; neighbours' encodings in VAD's grouping (session 25)
S26 = "2026-12-07-s26-syllable-types"  # VAD's syllable-like types: neighbours' names, word cues, own-encoding placement (session 26)
S27 = "2026-12-07-s27-wide-window"  # VAD's stretches encoded with their surroundings (session 27)


def classified(configuration: str, measure: str = "accuracy_csls") -> list:
    """Where an experiment's metrics.json keeps a classification cell: its summary row's mean over seeds."""
    return ["summary", {"task": "classification", "configuration": configuration}, measure, "mean"]


def translated(text: str, configuration: str, measure: str = "p@1_csls") -> list:
    """Where an experiment's metrics.json keeps a translation cell (text space `text`): its mean over seeds."""
    return ["summary", {"task": "translation", "text": text, "configuration": configuration}, measure, "mean"]


SOURCES: dict[str, tuple[str, list]] = {
    # people's voices (issue 15): the recogniser installed in the demo since session 12 — the speech-
    # embedding and MFCC recognisers' cosines fused (0.4 / 0.6) — real test speakers, experiment's scoring
    **{f"voices.{key}": (FUSED, FUSED_TEST + [field]) for key, field in (
        ("so762_test.word_top1", "so762_test_word_top1"), ("so762_test.word_top10", "so762_test_word_top10"),
        ("so762_test.type_top1", "so762_test_type_top1"), ("so762_test.type_top10", "so762_test_type_top10"),
        ("so762_test.digit_top1", "so762_test_digits_top1"),
        ("synthetic_unseen.word_top1", "synthetic_unseen_top30_top1"),
        ("synthetic_unseen.top500_top1", "synthetic_unseen_500_top1"))},
    "voices.so762_test.most_frequent_top1": (VOICES, ["tests", "so762_test", "all", "most_frequent_top1"]),
    # the speech-embedding recogniser alone (the demo's in sessions 10-11)
    "voices_se.so762_test.word_top1": (VOICES, ["tests", "so762_test", "text_words", "top1"]),
    "voices_se.so762_test.word_top10": (VOICES, ["tests", "so762_test", "text_words", "top10"]),
    "voices_se.synthetic_unseen.word_top1": (VOICES, ["tests", "synthetic_unseen", "top30_words", "top1"]),
    # the demo through the app's own code path (word_span trimming; session 12, fused recogniser)
    **{f"voices_app.so762_test.{key}": ("2026-12-06-s12-cpu-app-path-fusion/app_path_check.json", path)
       for key, path in (("word_top1", ["top1"]), ("word_top10", ["top10"]), ("digit_top1", ["digits", "top1"]))},
    # the same training without the pretrained front end (MFCC), and without the real speakers
    "voices_mfcc.so762_test.word_top1": ("2026-12-06-s10-h100-voices-mfcc-real", ["tests", "so762_test", "text_words", "top1"]),
    "voices_synthetic_only.so762_test.word_top1": ("2026-12-06-s10-h100-voices-se-syn",
                                                   ["tests", "so762_test", "text_words", "top1"]),
    # configuration A at 500k tokens (MFCC front end, 3 seeds)
    "synthetic_500k.A.classification": ("2026-11-25-s3-kjv_500k-restarts-merged", classified("A")),
    # the same with the speech-embedding front end (issue 15; seed 0, session 11)
    "synthetic_500k_se.A.classification": (SE_500K, classified("A")),
    **{f"synthetic_500k_se.A.{lang}_p1": (SE_500K, translated(text, "A"))
       for lang, text in (("fr", "fr_lsg"), ("es", "es_rv"))},
    # configurations without word labels at 120k tokens (issue 18): unit-skipgram, 3 seeds, unsupervised map
    **{f"synthetic_120k.{c}.classification": ("2026-12-02-s8-kjv_120k_bvf-merged",
                                              classified(c)) for c in ("B", "VAD", "F")},
    # the same at 500k tokens (issue 18): unit-skipgram, seed 0, session 13 on an H100 — B with the default
    # settings is kept as synthetic_500k_default.B (session 21's B below is synthetic_500k.B)
    "synthetic_500k.VAD.classification": ("2026-12-06-s13-h100-kjv_500k_bvad", classified("VAD")),
    "synthetic_500k_default.B.classification": ("2026-12-06-s13-h100-kjv_500k_bvad", classified("B")),
    "synthetic_500k_default.B.fr_p1": ("2026-12-06-s13-h100-kjv_500k_bvad", translated("fr_lsg", "B")),
    # session 22: B through the experiment command with the voice-free settings (voice_groups, join_types,
    # regress_voices, gw_start), every stage made by the runner: the GPU-sized encoder on an H100 (the
    # headline), the CPU-sized one on the 2-core CPU; and VAD with the same settings (H100)
    "synthetic_500k.B.classification": (f"{S22}/gpu_b_s22", classified("B")),
    "synthetic_500k.B.fr_p1": (f"{S22}/gpu_b_s22", translated("fr_lsg", "B")),
    "synthetic_500k_cpu.B_voice_free.classification": (f"{S22}/cpu_b_s22", classified("B")),
    "synthetic_500k_cpu.B_voice_free.fr_p1": (f"{S22}/cpu_b_s22", translated("fr_lsg", "B")),
    # the CPU run's earlier evaluations: test segments placed by one mean centroid per joined type (before
    # the clusters' prototypes), and before that with GW starts over 2,000 target words only (before
    # gw_target_words took 3,000 as well); and B at 120k tokens with the voice-free settings (H100)
    "synthetic_500k_cpu.B_voice_free_mean_centroid.classification": (
        f"{S22}/cpu_b_s22/second_eval_mean_centroids",
        classified("B")),
    "synthetic_500k_cpu.B_voice_free_2000_words.classification": (
        f"{S22}/cpu_b_s22/first_eval_2000_words",
        classified("B")),
    "synthetic_120k_gpu.B_voice_free.classification": (f"{S22}/gpu_b120k_s22", classified("B")),
    "synthetic_500k_gpu.VAD_voice_free.classification": (f"{S22}/gpu_vad_s22", classified("VAD")),
    # session 21: the same experiment command (join_types, regress_voices, gw_start) on the CPU encoder trained
    # on the shared space's groups by run-folder scripts (session 20's checkpoints)
    "synthetic_500k_cpu.B_s20_encoder_joined_gw.classification": (
        f"{S21}/cpu_joined_s21", classified("B")),
    "synthetic_500k_cpu.B_s20_encoder_joined_gw.fr_p1": (
        f"{S21}/cpu_joined_s21", translated("fr_lsg", "B")),
    # the same settings on the encoder the runner makes by itself (DTW-mined pairs; session 20's rebuild)
    "synthetic_500k_cpu.B_rebuilt_joined_gw.classification": (f"{S21}/cpu_joined_base_s21", classified("B")),
    # the same steps strung together by b_label_free.py on both groups-trained packs, mean of skip-gram seeds
    # 0-2: English classification with the GW start and French P@1 through the English text space (current
    # code: one GW run per entropy 0.005, 0.01), and from the first runs (one entropy, 0.01): the same, plus
    # selflearn without the GW start and the direct French map
    **{f"synthetic_500k_{pack}.B_joined_{key}": (f"{S21}/b_label_free_summary.json", [entry, field, "mean"])
       for pack in ("cpu", "gpu")
       for key, entry, field in (("gw.classification", pack, "classification_gw"),
                                 ("gw.fr_p1_pivot", pack, "fr_p1_pivot"),
                                 ("gw_eps0.01.classification", f"{pack}_eps0.01", "classification_gw"),
                                 ("gw_eps0.01.fr_p1_pivot", f"{pack}_eps0.01", "fr_p1_pivot"),
                                 ("gw_eps0.01.fr_p1_direct", f"{pack}_eps0.01", "fr_p1_direct"),
                                 ("selflearn_only.classification", f"{pack}_eps0.01", "classification_selflearn_only"))},
    # French through the English text space (core.pipeline.pivot) by the experiment command, CPU-sized encoder
    # (session 23: every (English word, translation) pair ranked by mean score, core.retrieval.rank_pivot_pairs;
    # session 22's decoding took only the top English word's translations)
    "synthetic_500k.B.fr_p1_pivot": (f"{S23_PIVOT}/cpu_exp", translated("fr_lsg_pivot", "B")),
    "synthetic_500k.B.fr_p5_pivot": (f"{S23_PIVOT}/cpu_exp", translated("fr_lsg_pivot", "B", "p@5_csls")),
    "synthetic_500k_cpu.B_pivot_top_word.fr_p1": (f"{S22}/cpu_b_s22", translated("fr_lsg_pivot", "B")),
    "synthetic_500k_cpu.B_pivot_top_word.fr_p5": (f"{S22}/cpu_b_s22", translated("fr_lsg_pivot", "B", "p@5_csls")),
    # VAD with its segments cut at pauses and energy valleys ([features] segmenter = "energy"), H100
    "synthetic_500k_gpu.VAD_energy.classification": (f"{S23_VAD}/gpu_evad", classified("VAD")),
    # a diagnosis, not a VAD result: the energy segments through session 22's CPU B encoder (trained on
    # forced-alignment word segments), everything after the encoder by the runner
    "synthetic_500k_cpu.VAD_energy_b_encoder.classification": (f"{S23_VAD}/cpu_benc", classified("VAD")),
    # VAD cut at every energy valley ([features] min_word = max_word = 0.08), H200, no DTW pair round
    "synthetic_500k_gpu.VAD_syllable.classification": (f"{S24_VAD}/gpu_syllable_vad", classified("VAD")),
    # a diagnosis, not a VAD result: every-valley segments through session 22's CPU B encoder
    "synthetic_500k_cpu.VAD_syllable_b_encoder.classification": (f"{S24_VAD}/cpu_bsyl", classified("VAD")),
    # session 21's diagnosis (GPU groups pack unless named): a map fitted with labels on each type inventory,
    # held-out classification; and the first GW-started run (POT's solver, skip-gram seed 0)
    "synthetic_500k_gpu.B_own_supervised_map.classification": (f"{S21}/map_search_gpu_groups.json",
                                                               ["runs", {"types": "own"}, "supervised", "accuracy"]),
    "synthetic_500k_cpu.B_rebuilt_supervised_map.classification": (f"{S21}/map_search_cpu_base.json",
                                                                   ["runs", {"types": "own"}, "supervised", "accuracy"]),
    "synthetic_500k_gpu.B_own_voice_regressed_supervised_map.classification": (
        f"{S21}/criterion_probe_gpu_groups.json", ["voice_regressed", "supervised", "accuracy"]),
    "synthetic_500k_gpu.B_joined_supervised_map.classification": (f"{S21}/context_join_gpu_1000.json",
                                                                  ["classification", "supervised", "accuracy"]),
    "synthetic_500k_gpu.B_joined_gw_pot.classification": (f"{S21}/gw_start_gpu_1000.json",
                                                          ["runs", {"sg_seed": 0}, "selflearn_gw_start", "accuracy"]),
    # Mboshi start to end (issue 16), session 12 on the 2-core CPU: the speech space trained 10 epochs
    # (corpus and text spaces from session 9); dev word segments ranked by calibrated type exemplars,
    # the lexicon after 0 and 100 confirmed pairs
    **{key: ("2026-12-06-s12-cpu-mboshi-end-to-end", [key]) for key in (
        "mboshi.lexicon_p1_at_0", "mboshi.lexicon_p1_at_100", "mboshi.lexicon_p1_supervised_bound")},
    **{key: ("2026-12-06-s12-cpu-mboshi-end-to-end", [key]) for key in (
        "mboshi.dev.word_top1", "mboshi.dev.word_top10", "mboshi.dev.most_frequent_top1")},
    # cross-speaker same-different AP (x 100) on Mboshi dev: the self-supervised front end trained
    # here on Mboshi train audio (issue 18, session 11) and MFCC in the same call
    **{f"mboshi.same_different.{name}_dtw_ap": ("2026-12-06-s11-cpu-selfsup-frontend",
                                               ["sets", "mboshi", front, "ap_dtw"])
       for name, front in (("selfsup", "ssl:mboshi_s11.safetensors@L4"), ("mfcc", "mfcc"))},
    # spoken-term discovery on Mboshi dev (issue 18), energy-valley segments + k-means
    "mboshi.zrc.token_f": ("2026-12-06-s9-cpu-mboshi-zrc", ["systems", "energy_kmeans_all", "token_f"]),
    "mboshi.zrc.type_f": ("2026-12-06-s9-cpu-mboshi-zrc", ["systems", "energy_kmeans_all", "type_f"]),
    "mboshi.zrc.boundary_f": ("2026-12-06-s9-cpu-mboshi-zrc", ["systems", "energy_kmeans_all", "boundary_f"]),
    "mboshi.zrc.ned": ("2026-12-06-s9-cpu-mboshi-zrc", ["systems", "energy_kmeans_all", "ned"]),
    # the app's own label-free path on Mboshi dev (vad reader -> configuration VAD), scored the same
    # way (issue 18, session 13; mean of 3 seeds): with the default front end for such stores (the
    # standardised speech embedding) and with MFCC
    **{f"mboshi.vad_path{suffix}.{measure}": ("2026-12-06-s13-cpu-mboshi-vad-path",
                                             ["over_seeds", system, measure, "mean"])
       for suffix, system in (("", "vad_path_speech_embedding_std"), ("_mfcc", "vad_path_mfcc"))
       for measure in ("ned", "token_f", "type_f", "boundary_f")},
    # the same path with the energy reader (cut at pauses and energy valleys) instead of vad
    **{f"mboshi.energy_path{suffix}.{measure}": ("2026-12-06-s13-cpu-mboshi-vad-path/metrics_energy.json",
                                                ["over_seeds", system, measure, "mean"])
       for suffix, system in (("", "energy_path_speech_embedding_std"), ("_mfcc", "energy_path_mfcc"))
       for measure in ("ned", "token_f", "type_f", "boundary_f")},
    # ... with the parameter-free "mean" encoder, the default since session 13 for a speech-embedding
    # store in configuration B / VAD / F (types = k-means over each segment's mean frame)
    **{f"mboshi.energy_path_mean_encoder{suffix}.ned": ("2026-12-06-s13-cpu-mboshi-vad-path/metrics_mean_encoder.json",
                                                        ["over_seeds", system, "ned", "mean"])
       for suffix, system in (("", "energy_path_mean_encoder_speech_embedding_std"),
                              ("_mfcc", "energy_path_mean_encoder_mfcc"))},
    # the same default path on a second corpus, English read speech (speechocean762 test, forced-alignment
    # reference; session 14): the energy reader's defaults, untuned, + the mean encoder; mean of 3 seeds
    **{f"so762.energy_path_mean_encoder.{measure}": ("2026-12-06-s14-cpu-so762-readers",
                                                    ["over_seeds", "energy_path_mean_encoder_speech_embedding_std",
                                                     measure, "mean"])
       for measure in ("ned", "token_f", "type_f", "boundary_f")},
    # configuration B at 500k synthetic tokens on the 2-core CPU (session 15): the run's own global k-means
    # types, and each training voice clustered on its own then merged across voices (mutual nearest centroids)
    **{f"synthetic_500k_cpu.{key}.classification": (
        "2026-12-06-s15-cpu-merge-bound/xvoice_merge_500k_kmult20.json",
        ["runs", {"method": method}, "accuracy"])
       for key, method in (("B", "global k-means (the run's own B types)"), ("B_voice_merge", "mnn"))},
    # session 17, the same pack: each voice's clusters merged by majority word (ORACLE ceilings, labels used
    # on purpose; with a share of clusters moved to an acoustic neighbour's type) and label-free linkers
    **{f"synthetic_500k_cpu.B_merge_{key}.classification": (f"2026-12-06-s17-cpu-merge-ceiling/{file}.json",
                                                            ["runs", {"method": method}, "accuracy"])
       for key, file, method in (("oracle", "merge_ceiling", "oracle"),
                                 ("oracle_noise10", "oracle_noise_0.1", "oracle-noise"),
                                 ("oracle_noise20", "oracle_noise_0.2", "oracle-noise"),
                                 ("oracle_noise25", "oracle_noise_0.25", "oracle-noise"),
                                 ("oracle_noise30", "oracle_noise_0.3", "oracle-noise"),
                                 ("dedup", "merge_ceiling", "dedup"), ("dedup_rounds3", "dedup_rounds3", "dedup"),
                                 ("graph", "graph_cpm0.1", "graph"), ("vote", "vote_rounds8", "vote"),
                                 ("within", "within_all_median", "within"))},
    # the same two paths on mean-pooled frames of a HuBERT-style front end trained 3 H100 minutes on the
    # corpus's own audio (session 16)
    **{f"synthetic_500k_gpu.{key}.classification": (
        "2026-12-06-s16-gpu-ssl-b/xvoice_merge_ssl_h100.json",
        ["runs", {"method": method}, "accuracy"])
       for key, method in (("B_ssl_mean", "global k-means (the run's own B types)"), ("B_ssl_mean_voice_merge", "mnn"))},
    # session 18: B at 500k with the GPU-sized encoder (3 epochs, H100), its voices' clusters merged, and
    # every voice normalised into one shared space (whitening + generalised Procrustes) before k-means
    **{f"synthetic_500k_gpu.{key}.classification": (f"{S18}/{file}.json", ["runs", select, "accuracy"])
       for key, file, select in (
           ("B_3ep", "merge_ceiling", {"method": "global"}),
           ("B_3ep_merge_oracle", "merge_ceiling", {"method": "oracle"}),
           ("B_3ep_merge_within", "merge_ceiling", {"method": "within"}),
           ("B_voice_norm", "normalised_types_gpu", {"method": "global-norm"}),
           ("B_voice_norm_k2000_to1000", "frontier_gpu", {"k": 2000, "types": 1000}),
           ("B_voice_norm_k5000_to2000", "frontier_gpu", {"k": 5000, "types": 2000}),
           ("B_voice_norm_k5000_to1500", "frontier_gpu", {"k": 5000, "types": 1500}),
           ("B_voice_norm_k5000_to1000", "frontier_gpu", {"k": 5000, "types": 1000}),
           ("B_voice_norm_type_adapted", "type_adapted_norm", {"round": 3}),
           ("B_voice_norm_oracle", "type_count_ceiling", {"top": 0}),
           ("B_voice_norm_oracle_top1000", "type_count_ceiling", {"top": 1000}))},
    **{f"synthetic_500k_cpu.{key}.classification": (f"{S18}/normalised_types_cpu.json", ["runs", {"method": m}, "accuracy"])
       for key, m in (("B_voice_norm", "global-norm"), ("B_voice_norm_mnn", "mnn-norm"))},
    "synthetic_500k_cpu.B_voice_norm_k2000_to1000.classification": (f"{S18}/frontier_cpu.json",
                                                                     ["runs", {"k": 2000, "types": 1000}, "accuracy"]),
    # sessions 19-20: a head trained on the shared space's types (CPU stand-in for the pair round); the
    # input row is session 18's K 2,000 -> 1,000 point with unit rows before k-means
    **{f"synthetic_500k_gpu.{key}.classification": (f"{S19}/refine_head.json",
                                                    ["runs", {"embedding": emb, "types": 1000}, "accuracy"])
       for key, emb in (("B_voice_norm_k2000_to1000_unit", "input"), ("B_voice_norm_head", "refined"))},
    # session 20: the encoder's pair round trained on those groups instead of DTW-mined pairs ("group_pairs"),
    # against this session's rebuild of session 15's CPU run ("rebuilt"); the same measures for each pack
    **{f"synthetic_500k_{dev}.{key}.classification": (f"{S19}/{file}_{dev}_{run}.json", ["runs", select, "accuracy"])
       for dev, run, stem in (("cpu", "base", "B_rebuilt"), ("cpu", "groups", "B_group_pairs"),
                              ("gpu", "groups", "B_group_pairs"))
       for key, file, select in ((stem, "merge_ceiling", {"method": "global"}),
                                 (f"{stem}_merge_oracle", "merge_ceiling", {"method": "oracle"}),
                                 (f"{stem}_voice_norm_k2000_to1000", "frontier", {"k": 2000, "types": 1000}))},
    # session 25: experiments/kjv_500k_b_voice_free.toml as committed, seeds 1 and 2 (H100; mean of the two)
    "synthetic_500k_gpu.B_seeds12.classification": (f"{S25}/gpu_b_seeds12", classified("B")),
    "synthetic_500k_gpu.B_seeds12.fr_p1": (f"{S25}/gpu_b_seeds12", translated("fr_lsg", "B")),
    "synthetic_500k_gpu.B_seeds12.fr_p1_pivot": (f"{S25}/gpu_b_seeds12", translated("fr_lsg_pivot", "B")),
    "synthetic_500k_gpu.B_seeds12.fr_p5_pivot": (f"{S25}/gpu_b_seeds12", translated("fr_lsg_pivot", "B", "p@5_csls")),
    # session 25: the VAD diagnosis of session 24 (every-valley stretches, session 22's CPU B encoder) with each
    # stretch's neighbours' encodings (weight 0.5) in its grouping encoding
    "synthetic_500k_cpu.VAD_syllable_b_encoder_context.classification": (f"{S25}/cpu_ctx05", classified("VAD")),
    # ... and with 12,000 k-means clusters joined into 6,000 types (no neighbours)
    "synthetic_500k_cpu.VAD_syllable_b_encoder_k12000.classification": (f"{S25}/cpu_k12000", classified("VAD")),
    # session 25's ORACLE: every-valley stretches named by their perfect unit (word, word#k, w1+w2), the units
    # grouped by sound alone (k-means of their mean encodings) into 2,000 / 6,000 groups; per-stretch accuracy
    **{f"synthetic_500k_cpu.VAD_units_oracle_{k}.classification": (f"{S25}/oracle_merge_noise_{k}.json",
                                                                   ["units", "segment_accuracy"])
       for k in ("k2000", "k6000")},
    # session 26: session 24's learnt every-valley types (CPU stand-in) each named with its neighbours' types where
    # that trigram / bigram is frequent; and the same naming over session 25's ORACLE units grouped by sound into
    # 2,000 groups. word2vec, the unsupervised map, per-stretch accuracy on the training voices (as the oracles)
    "synthetic_500k_cpu.VAD_syllable_b_encoder_context_types.classification": (
        f"{S26}/context_types_both.json", ["units", "segment_accuracy"]),
    "synthetic_500k_cpu.VAD_units_oracle_k2000_context_types.classification": (
        f"{S26}/context_types_oracle_k2000_both.json", ["units", "segment_accuracy"]),
    # ... and session 25's ORACLE 6,000 sound groups with each stretch placed by its own encoding (nearest centroid)
    "synthetic_500k_cpu.VAD_units_oracle_k6000_own_encoding.classification": (
        f"{S26}/token_noise_k6000.json", ["by_own_encoding", "units", "segment_accuracy"]),
    # ... and the same test on B's word segments (session 22's CPU B run; word means into 1,000 groups): a calibration
    "synthetic_500k_cpu.B_words_oracle_k1000_own_encoding.classification": (
        f"{S26}/token_noise_b_k1000.json", ["by_own_encoding", "units", "segment_accuracy"]),
    # session 27: the stand-in's stretches k-means'd into 6,000 clusters (no join), encoded bare (W 0) and with
    # 10 frames of the neighbouring stretches on either side (W 10); per-stretch accuracy on the training voices
    **{f"synthetic_500k_cpu.VAD_syllable_b_encoder_kmeans6000_w{w}.classification": (
        f"{S27}/wide_window_w{w}_k6000_scored.json", ["learnt_kmeans", "units", "segment_accuracy"]) for w in (0, 10)},
    # ... and their word purity (share of a cluster's stretches carrying its majority word), in percent
    **{f"synthetic_500k_cpu.VAD_syllable_b_encoder_kmeans6000_w{w}.word_purity": (
        f"{S27}/wide_window_w{w}_k6000.json", ["learnt_kmeans", "purity_word"]) for w in (0, 4, 10, 25, 50)},
    # a second pair round on groups from the first round's encoder (CPU; no frontier run)
    **{f"synthetic_500k_cpu.{key}.classification": (f"{S19}/merge_ceiling_cpu_r2.json", ["runs", {"method": m}, "accuracy"])
       for key, m in (("B_group_pairs_r2", "global"), ("B_group_pairs_r2_merge_oracle", "oracle"))},
}


def lookup(data, path: list):
    """Follow `path` (keys, or a dict selecting the first list item whose fields match) into `data`."""
    for step in path:
        if isinstance(step, dict):
            data = next(item for item in data if all(item.get(k) == v for k, v in step.items()))
        else:
            data = data[step]
    return data


def collect() -> tuple[dict, list[str]]:
    """(key → percentage, keys left out with why)."""
    out, missing = {}, []
    for key, (run, path) in SOURCES.items():
        file = RUNS / run if run.endswith(".json") else RUNS / run / "metrics.json"
        try:
            value = lookup(json.loads(file.read_text(encoding="utf-8")), path)
        except (OSError, KeyError, StopIteration, ValueError, TypeError) as exc:
            missing.append(f"{key}: {file.relative_to(ROOT)} ({type(exc).__name__})")
            continue
        out[key] = round(100.0 * float(value), 2)
    return out, missing


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--check", action="store_true", help="compare docs/results.json with the run folders")
    args = p.parse_args(argv)
    values, missing = collect()
    for line in missing:
        print(f"left out: {line}", file=sys.stderr)
    target = ROOT / "docs" / "results.json"
    if args.check:
        on_disk = json.loads(target.read_text(encoding="utf-8"))
        if on_disk != values:
            print(f"docs/results.json differs from the run folders: {sorted(set(on_disk.items()) ^ set(values.items()))}",
                  file=sys.stderr)
            return 1
        return 0
    target.write_text(json.dumps(values, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{target.relative_to(ROOT)}: {len(values)} numbers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
