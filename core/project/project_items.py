"""The spaces, mappings, projections, encoders and array files of a project: `ProjectItems`.

`ProjectItems` is the part of `core.project.Project` that stores and loads the items listed in the
manifest. Every item is written under a fresh file stem, then the manifest is switched to it, then
the old files go (`_store`), so a crash never leaves a half-replaced item. It uses the attributes
`Project.__init__` sets (root, _manifest, _lock, _spaces) and `Project._update_manifest`.
"""

from __future__ import annotations

import copy
import re
from glob import escape as glob_escape
from pathlib import Path
from typing import Callable

import numpy as np

from core.embeddings import Embeddings
from core.errors import WordbridgeError
from core.project import items
from core.project.items import Mapping, Projection, ProjectionGroup
from core.project.paths import inside, without_local_paths
from core.project.manifest import (ALIGNMENT_STAGES, PROJECTION_METHODS, SPACE_KINDS, EncoderEntry, Manifest,
                                   MappingEntry, ProjectionEntry, SpaceEntry, now)

# Every file name an item can have is its stem plus one of these (see core/project/items.py).
_ITEM_SUFFIXES = (".safetensors", ".vocab.txt", ".index.json")
_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def check_id(item_id: str, what: str) -> str:
    """Ids become file names: letters, digits, '.', '_' and '-', starting with a letter or digit."""
    if not isinstance(item_id, str) or not _ID_PATTERN.fullmatch(item_id) or item_id.endswith((".tmp", ".")):
        raise WordbridgeError(f"{what} id {item_id!r} is not allowed (use letters, digits, '.', '_', '-'; "
                              "start with a letter or digit; at most 100 characters)")
    return item_id


class ProjectItems:
    """Spaces, mappings, projections, encoders and array files (a part of `Project`)."""

    # --- spaces -------------------------------------------------------------------------------

    @property
    def spaces(self) -> list[SpaceEntry]:
        """Manifest entries of the spaces (no arrays loaded)."""
        return copy.deepcopy(self._manifest.spaces)

    def space_entry(self, space_id: str) -> SpaceEntry:
        """The manifest entry of one space."""
        return _find(self._manifest.spaces, space_id, "space")

    def add_space(self, space_id: str, embeddings: Embeddings, kind: str | None = None, language: str | None = None,
                  provenance: dict | None = None, synthetic: bool = False, synthetic_note: str = "",
                  replace: bool = False) -> SpaceEntry:
        """Store an embedding space; `kind`/`language` default to the Embeddings' own.

        `synthetic=True` (speech made by a synthesiser) also marks the whole project synthetic and
        needs `synthetic_note` saying how the speech was made, unless the project already has one.
        """
        check_id(space_id, "space")
        kind = kind or embeddings.modality
        language = embeddings.language if language is None else language
        if kind not in SPACE_KINDS:
            raise WordbridgeError(f"space kind must be one of {', '.join(SPACE_KINDS)}, not {kind!r}")
        if synthetic and kind != "speech":
            raise WordbridgeError(f"space {space_id!r}: only a speech space can be synthetic")
        if synthetic and not (synthetic_note or self._manifest.synthetic_speech_note):
            raise WordbridgeError(f"space {space_id!r}: say how the synthetic speech was made (synthetic_note)")
        provenance = without_local_paths(items.plain_json(provenance or {}))  # no /home/... in a shared project
        items._check_json(provenance, f"space {space_id!r} provenance")
        def also(m: Manifest) -> None:
            if language and language not in m.languages:
                m.languages.append(language)
            if synthetic:
                m.synthetic_speech = True
                m.synthetic_speech_note = synthetic_note or m.synthetic_speech_note

        with self._lock:
            self._spaces.pop(space_id, None)
            return self._store("spaces", space_id, replace, lambda stem: items.write_space(
                self.root, stem, space_id, embeddings, kind, language, provenance, synthetic), also)

    def space(self, space_id: str) -> Embeddings:
        """Load a space (checked against its vocabulary and the manifest); cached after the first call.

        The cached vectors are read-only because every caller shares them; copy them to change them.
        """
        with self._lock:
            if space_id not in self._spaces:
                loaded = items.read_space(self.root, self.space_entry(space_id))
                loaded.vectors.flags.writeable = False  # shared by every caller: copy before changing
                self._spaces[space_id] = loaded
            return self._spaces[space_id]

    # --- mappings -----------------------------------------------------------------------------

    @property
    def mappings(self) -> list[MappingEntry]:
        """Manifest entries of the mappings."""
        return copy.deepcopy(self._manifest.mappings)

    def add_mapping(self, mapping_id: str, source: str, target: str, W: np.ndarray, method: str,
                    metrics: dict | None = None, extra_arrays: dict[str, np.ndarray] | None = None,
                    metadata: dict | None = None, header: dict[str, str] | None = None,
                    replace: bool = False) -> MappingEntry:
        """Store a linear map source → target (target ≈ W @ source; W is [target dim, source dim]).

        `metrics` is a small summary kept in the manifest (P@1, criterion, ...); `extra_arrays`
        (src_mean, tgt_mean, PCA matrices, ...) and `metadata` (JSON) go into the mapping's file;
        `header` keeps raw str → str safetensors header entries (another module's own format).
        """
        check_id(mapping_id, "mapping")
        source_entry, target_entry = self.space_entry(source), self.space_entry(target)
        return self._store("mappings", mapping_id, replace, lambda stem: items.write_mapping(
            self.root, stem, mapping_id, source_entry, target_entry, W, method, items.plain_json(metrics or {}),
            extra_arrays, without_local_paths(items.plain_json(metadata or {})), header))

    def mapping_entry(self, mapping_id: str) -> MappingEntry:
        """The manifest entry of one mapping."""
        return _find(self._manifest.mappings, mapping_id, "mapping")

    def mapping(self, mapping_id: str) -> Mapping:
        """Load a mapping, checking W against its spaces' dimensions."""
        entry = self.mapping_entry(mapping_id)
        spaces = {s.id: s for s in self._manifest.spaces}
        return items.read_mapping(self.root, entry, spaces.get(entry.source), spaces.get(entry.target))

    # --- projections --------------------------------------------------------------------------

    @property
    def projections(self) -> list[ProjectionEntry]:
        """Manifest entries of the cached projections."""
        return copy.deepcopy(self._manifest.projections)

    def add_projection(self, projection_id: str, coords: np.ndarray, groups: list[ProjectionGroup], method: str,
                       explained_variance: list[float] | None = None, alignment: str = "before",
                       mapping: str | None = None, params: dict | None = None,
                       extra_arrays: dict[str, np.ndarray] | None = None, replace: bool = True) -> ProjectionEntry:
        """Cache 2-D coordinates: rows follow `groups` in order (each group = one space's words).

        `alignment="after"` means the source space's points were mapped by `mapping` first.
        Replaces a projection of the same id by default (projections are caches).
        """
        check_id(projection_id, "projection")
        if method not in PROJECTION_METHODS:
            raise WordbridgeError(f"projection method must be one of {', '.join(PROJECTION_METHODS)}, not {method!r}")
        if alignment not in ALIGNMENT_STAGES:
            raise WordbridgeError(f"alignment must be 'before' or 'after', not {alignment!r}")
        if alignment == "after":
            _find(self._manifest.mappings, mapping or "", "mapping")
        variance = None if explained_variance is None else [float(v) for v in explained_variance]
        entry = ProjectionEntry(projection_id, method, [], 0, {}, alignment, mapping, variance,
                                items.plain_json(params or {}), now())
        return self._store("projections", projection_id, replace,
                           lambda stem: items.write_projection(self.root, stem, entry, coords, groups, extra_arrays))

    def projection(self, projection_id: str) -> Projection:
        """Load cached coordinates and their index."""
        return items.read_projection(self.root, _find(self._manifest.projections, projection_id, "projection"))

    # --- encoders and other arrays ------------------------------------------------------------

    @property
    def encoders(self) -> list[EncoderEntry]:
        """Manifest entries of the stored speech encoders."""
        return copy.deepcopy(self._manifest.encoders)

    def set_encoder(self, encoder_id: str, state_dict: dict, config: dict, provenance: dict | None = None) -> EncoderEntry:
        """Store (or replace) a speech encoder: its state dict (torch tensors or numpy arrays) and config.
        An ssl front end's checkpoint (config "frontend") is copied into the project (`frontends/`)
        and recorded relative to it, with its sha256 (core.frontends.frontend_record)."""
        check_id(encoder_id, "encoder")
        config, provenance = items.plain_json(config), without_local_paths(items.plain_json(provenance or {}))
        frontend = config.get("frontend") if isinstance(config, dict) else None
        if isinstance(frontend, dict) and frontend.get("name") in ("ssl", "standardised"):  # standardised: its "inner"
            if self.read_only:
                raise WordbridgeError(f"{self.root}: the project is open read-only; save a copy to change it")
            from core.frontends import frontend_record

            config = {**config, "frontend": frontend_record(frontend, self.root)}
        return self._store("encoders", encoder_id, True, lambda stem: items.write_encoder(
            self.root, stem, encoder_id, state_dict, config, provenance))

    def encoder(self, encoder_id: str) -> tuple[dict[str, np.ndarray], dict]:
        """An encoder's weights (name → numpy array) and config; `torch.from_numpy` turns them into a state dict."""
        entry = _find(self._manifest.encoders, encoder_id, "encoder")
        return items.read_encoder(self.root, entry), copy.deepcopy(entry.config)

    def save_arrays(self, name: str, arrays: dict[str, np.ndarray], metadata: dict | None = None) -> None:
        """Store small named arrays under arrays/<name>.safetensors (no manifest entry)."""
        from core.project.store import save_arrays

        save_arrays(self.root / "arrays" / f"{check_id(name, 'array file')}.safetensors", arrays,
                    items.plain_json(metadata or {}))

    def load_arrays(self, name: str) -> tuple[dict[str, np.ndarray], dict]:
        """Arrays and metadata stored with `save_arrays`."""
        from core.project.store import load_arrays

        return load_arrays(self.root / "arrays" / f"{check_id(name, 'array file')}.safetensors")

    def remove(self, what: str, item_id: str) -> None:
        """Remove a "space", "mapping", "projection" or "encoder" and its files (refused while in use)."""
        section = {"space": "spaces", "mapping": "mappings", "projection": "projections", "encoder": "encoders"}.get(what)
        if section is None:
            raise WordbridgeError(f"cannot remove a {what!r}; use space, mapping, projection or encoder")
        with self._lock:
            entry = _find(getattr(self._manifest, section), item_id, what)
            users = []
            if what == "space":
                users += [f"mapping {g.id}" for g in self._manifest.mappings if item_id in (g.source, g.target)]
                users += [f"projection {p.id}" for p in self._manifest.projections if item_id in p.spaces]
            if what == "mapping":
                users += [f"projection {p.id}" for p in self._manifest.projections if p.mapping == item_id]
            if users:
                raise WordbridgeError(f"{what} {item_id!r} is used by {', '.join(users)}; remove those first")
            self._update_manifest(lambda m: setattr(m, section, [e for e in getattr(m, section) if e.id != item_id]))
            self._delete_files(entry.files.values())
            if what == "space":
                self._spaces.pop(item_id, None)

    def _store(self, section: str, item_id: str, replace: bool, write: Callable[[str], object],
               also: Callable[[Manifest], None] | None = None):
        """Write an item's files under fresh names, switch the manifest to them, then delete the old files.

        A replaced item never has its files overwritten in place: until the manifest is written the
        project still shows the old item, complete, and a crash leaves at most unreferenced files.
        """
        what = section[:-1]
        with self._lock:
            old = next((e for e in getattr(self._manifest, section) if e.id == item_id), None)
            if old is not None and not replace:
                raise WordbridgeError(f"this project already has a {what} {item_id!r} (pass replace to overwrite it)")
            stem = self._fresh_stem(section, item_id, old)
            inside(self.root, stem, what)  # e.g. spaces/ a link out of the project: refused before writing
            try:
                entry = write(stem)
            except BaseException:
                # One file of a pair may already be in place: nothing refers to it, so it goes.
                self._delete_files(f"{stem}{suffix}" for suffix in _ITEM_SUFFIXES)
                raise

            def change(m: Manifest) -> None:
                _put(getattr(m, section), entry)
                if also is not None:
                    also(m)

            try:
                self._update_manifest(change)
            except BaseException:
                self._delete_files(entry.files.values())
                raise
            if old is not None:
                self._delete_files(set(old.files.values()) - set(entry.files.values()))
        return entry

    def _fresh_stem(self, section: str, item_id: str, old) -> str:
        """"<section>/<id>" for a new item; for a replacement, a stem ("<id>~N") no file uses yet."""
        folder = self.root / section
        used = {Path(f).name for f in (old.files.values() if old is not None else ())}
        for n in range(0, 10_000):
            name = item_id if n == 0 else f"{item_id}~{n}"
            if old is None or not any(u.startswith(f"{name}.") for u in used):
                if old is None or not any(folder.glob(f"{glob_escape(name)}.*")):
                    return f"{section}/{name}"
        raise WordbridgeError(f"{folder}: too many versions of {item_id!r}")

    def _delete_files(self, relative_paths) -> None:
        """Delete files of the project; a path leading outside the folder is refused (UnsafePathError)."""
        for relative in relative_paths:
            inside(self.root, relative, "item file").unlink(missing_ok=True)


def _find(entries: list, item_id: str, what: str):
    for entry in entries:
        if entry.id == item_id:
            return entry
    known = ", ".join(e.id for e in entries) or "none"
    raise WordbridgeError(f"no {what} {item_id!r} in this project (has: {known})")


def _put(entries: list, entry) -> None:
    """Replace the entry with the same id, or append."""
    for i, existing in enumerate(entries):
        if existing.id == entry.id:
            entries[i] = entry
            return
    entries.append(entry)
