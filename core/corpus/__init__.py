"""Speech corpora: readers that turn corpora into word segments, and the on-disk feature store.

- `readers.read_corpus(source, reader, **options)`: textgrid, clips, librispeech, vad, energy, chunks
- `feature_store.FeatureStore.open(path)` / `InMemoryFeatureStore(...)`: what training reads
- `build.build_feature_store(source, out, reader, ...)`: corpus → store, parallel and resumable
"""
