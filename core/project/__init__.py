"""The Wordbridge project: one folder that the command line, the pipeline and the app all use.

Format (schema 1)
-----------------
```
my-project/
  wordbridge.json             manifest (JSON, see below)
  project.sqlite              SQLite (WAL): recordings, segments, confirmed_pairs, runs
  spaces/<id>.safetensors     "vectors" float32 [n, dim], optional "counts" int64 [n]
  spaces/<id>.vocab.txt       UTF-8, one word per line, row order = frequency order
  mappings/<id>.safetensors   "W" float32 [target dim, source dim] (target ≈ W @ source),
                              optional extras ("src_mean", "tgt_mean", PCA matrices, ...)
  projections/<id>.safetensors  "coords" float32 [n, 2] (+ optional extras, e.g. PCA components)
  projections/<id>.index.json   {"n_points": n, "groups": [{"space", "start", "count", "words"}]}
  encoders/<id>.safetensors   a speech encoder's state dict; its config is in the manifest
  arrays/<name>.safetensors   any other small arrays (`Project.save_arrays`)
  recordings/<time>-<rand>.wav  mono 16-bit PCM WAV at the recording's own sample rate
```
When an item is replaced, its new files get a fresh stem ("spaces/<id>~1.safetensors", ...), the
manifest is switched to them, and the old files are deleted: the manifest's "files" are the truth.
Every safetensors file carries its JSON metadata in the header under the key "wordbridge"
(space files record the SHA-1 of their vocabulary, so a vocabulary from another save is caught).

`wordbridge.json` holds: "format": "wordbridge-project", "schema_version" (int), "app_version",
"created"/"modified" (ISO 8601 UTC), "name", "description", "synthetic_speech" (bool) with
"synthetic_speech_note" (how the speech was made), "languages", "settings" (object) and lists of
entries, each with an "id" and "files" (name → path relative to the project, "/" separated):
- "spaces": kind ("speech" | "text"), language, dim, n_words, provenance (object), synthetic (bool)
- "mappings": source, target (space ids), method, metrics (small summary object)
- "encoders": config (object that rebuilds the model), provenance
- "projections": method ("umap" | "pca"), explained_variance (PCA, per axis, or null), spaces,
  n_points, alignment ("before" | "after"; "after" names the "mapping" applied), params

Database tables (`PRAGMA user_version` = 2): recordings (id, created, wav_path, sample_rate,
duration, source "microphone" | "import", device, note, label, speaker), segments (id,
recording_id, start, end, label), confirmed_pairs (id, speech_kind "word" | "segment" |
"recording", speech_ref, text_word, language, status "confirmed" | "corrected" | "rejected",
created; one row per speech_kind, speech_ref and language: the latest decision; no row = unreviewed), runs (id, kind, started, finished, status, config JSON, metrics JSON, run_dir).

Rules: every file write is atomic (temporary file, fsync, rename; the manifest is written last),
every database change is one transaction, nothing is pickled. A manifest or database from a newer
schema is refused with a request to update Wordbridge; older manifests go through
`manifest.migrate`. Damaged files give a one-line error naming the file.

Use: `Project.create(path, name)`, `Project.open(path)`, then the methods of `Project`.
"""

from core.project.database import ConfirmedPair, Recording, Run, Segment
from core.project.items import Mapping, Projection, ProjectionGroup
from core.project.manifest import SCHEMA_VERSION, Manifest
from core.project.project import Project

__all__ = ["Project", "Manifest", "Mapping", "Projection", "ProjectionGroup", "Recording", "Segment",
           "ConfirmedPair", "Run", "SCHEMA_VERSION"]
