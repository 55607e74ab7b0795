"""Replacing a project's speech → text map safely: the previous map kept for Revert, layouts that
were drawn with the old map marked stale, and Align run from explicit options.

The previous map of mapping X is a byte copy of X's file in `arrays/previous-X.safetensors` (no
manifest entry, so nothing loads it as a live mapping); `revert_mapping` swaps it back, so a
second Revert returns to the newer map. Cached layouts "after alignment" that used X are listed in
the project setting `stale_layouts` until they are recomputed (`recompute_layout`).
"""

from __future__ import annotations

import shutil

from core.errors import WordbridgeError
from core.progress import Progress, ensure

STALE_KEY = "stale_layouts"
METADATA_RESERVED = ("id", "source", "target", "method", "convention", "metrics")


def previous_path(project, mapping_id: str):
    """Where the previous version of `mapping_id` is kept."""
    return project.root / "arrays" / f"previous-{mapping_id}.safetensors"


def has_previous(project, mapping_id: str) -> bool:
    """True when a previous version of the map is kept (Revert is possible)."""
    return previous_path(project, mapping_id).is_file()


def keep_previous(project, mapping_id: str) -> bool:
    """Copy the current map `mapping_id` aside before it is replaced; False when there is none yet."""
    staged = _stage_current(project, mapping_id)
    if staged is None:
        return False
    staged.replace(previous_path(project, mapping_id))
    return True


def _stage_current(project, mapping_id: str):
    """A copy of the current map's file next to where the previous one is kept (None: no such map)."""
    from core.atomic import atomic_path

    if mapping_id not in {m.id for m in project.manifest.mappings}:
        return None
    entry = project.mapping_entry(mapping_id)
    target = previous_path(project, mapping_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(target.name + ".pending")
    source = project.root / entry.files["arrays"]
    with atomic_path(staged, expected_bytes=source.stat().st_size) as tmp:  # the free space first
        shutil.copyfile(source, tmp)
    return staged


def replacing_map(project, mapping_id: str, replace):
    """Run `replace()` (which stores a new version of `mapping_id`); only when it returns is the old
    version kept as the previous one (a failed or cancelled run keeps the earlier previous map).
    Returns (replace's result, whether a previous map was kept)."""
    staged = _stage_current(project, mapping_id)
    try:
        result = replace()
    except BaseException:
        if staged is not None:
            staged.unlink(missing_ok=True)
        raise
    if staged is not None:
        staged.replace(previous_path(project, mapping_id))
    return result, staged is not None


def revert_mapping(project, mapping_id: str) -> dict:
    """Put the kept previous map back in place of `mapping_id`; the replaced one becomes the kept one
    (so reverting twice restores the newer map). Layouts after alignment are marked stale."""
    from core.project.store import load_arrays, read_raw_header

    path = previous_path(project, mapping_id)
    if not path.is_file():
        raise WordbridgeError(f"no previous version of mapping {mapping_id!r} is kept; nothing to revert to")
    arrays, info = load_arrays(path, required=["W"])
    header = read_raw_header(path)
    W = arrays.pop("W")  # all in memory now: the file may be overwritten by the map it replaces
    metadata = {k: v for k, v in info.items() if k not in METADATA_RESERVED}
    replacing_map(project, mapping_id, lambda: project.add_mapping(
        mapping_id, info["source"], info["target"], W, info.get("method", "reverted"),
        metrics=info.get("metrics") or {}, extra_arrays=arrays, metadata=metadata, header=header, replace=True))
    return {"mapping": mapping_id, "method": info.get("method"), "metrics": info.get("metrics") or {},
            "stale_layouts": mark_layouts_stale(project, mapping_id)}


def mark_layouts_stale(project, mapping_id: str | None = None) -> list[str]:
    """List every cached layout "after alignment" (of `mapping_id`, or any) as stale; returns them all."""
    stale = set(stale_layouts(project))
    stale |= {p.id for p in project.manifest.projections
              if p.alignment == "after" and (mapping_id is None or p.mapping in (None, mapping_id))}
    project.update_settings(**{STALE_KEY: sorted(stale) or None})
    return sorted(stale)


def stale_layouts(project) -> list[str]:
    """Ids of cached layouts drawn with a map that has since been replaced."""
    return list(project.settings.get(STALE_KEY, []))


def recompute_layout(project, method: str, aligned: bool, progress: Progress | None = None):
    """Compute and cache a joint layout (core.projection) and clear its stale mark."""
    from core.projection import compute_joint_projection

    entry = compute_joint_projection(project, method, aligned, progress=progress)
    stale = [s for s in stale_layouts(project) if s != entry.id]
    project.update_settings(**{STALE_KEY: stale or None})
    return entry


def speech_and_text(project, text_id: str | None = None) -> tuple[str, str]:
    """The speech space and the text space to align (`text_id`, else the one in the speech's language,
    else the first text space)."""
    spaces = project.manifest.spaces
    speech = next((s for s in spaces if s.kind == "speech"), None)
    texts = [s for s in spaces if s.kind == "text"]
    if speech is None or not texts:
        raise WordbridgeError("aligning needs a speech space and a text space in the project "
                              "(Train ▸ Train speech space…, Text ▸ Add text space…)")
    if text_id is not None:
        if text_id not in {t.id for t in texts}:
            raise WordbridgeError(f"no text space {text_id!r} in this project")
        return speech.id, text_id
    return speech.id, next((t for t in texts if t.language == speech.language), texts[0]).id


def text_and_text(project, source_id: str, text_id: str | None) -> tuple[str, str]:
    """Two different text spaces of the project to align (the source `source_id` onto `text_id`)."""
    texts = {s.id for s in project.manifest.spaces if s.kind == "text"}
    if source_id not in texts:
        raise WordbridgeError(f"no text space {source_id!r} in this project")
    if text_id is None or text_id not in texts or text_id == source_id:
        raise WordbridgeError("aligning a text space needs another text space of the project to align it with")
    return source_id, text_id


def align_keeping_previous(project, text_id: str | None = None, progress: Progress | None = None,
                           source_id: str | None = None, **options) -> dict:
    """Align the speech space (or the text space `source_id`) with a text space (core.alignment,
    `options` are AlignConfig fields), keep the map it replaces for Revert, and mark the layouts
    after alignment stale. A text-to-text map lets the classifier translate a clip's words through
    that text space (core.classify: a pivot), which is how a speech space trained without word
    labels reaches another language (docs/RESULTS.md session 22)."""
    from core.alignment.base import AlignConfig
    from core.alignment.pipeline import align
    from core.refine_pairs import default_align_method, store_alignment_mapping

    progress = ensure(progress)
    options = {k: v for k, v in options.items() if v is not None}
    if options.get("method") in (None, "default"):
        options["method"] = default_align_method()
        progress.log(f"alignment method: {options['method']}")
    config = AlignConfig(**options)
    source, text = speech_and_text(project, text_id) if source_id is None else \
        text_and_text(project, source_id, text_id)
    result = align(project.space(source), project.space(text), config, progress=progress)
    progress.check()
    mapping_id = f"{source}__{text}"
    _, kept = replacing_map(project, mapping_id, lambda: store_alignment_mapping(
        project, mapping_id, source, text, result.mapping, result.method_used,
        metrics={"criterion": float(result.criterion)}))
    return {"mapping": mapping_id, "criterion": float(result.criterion), "method_used": result.method_used,
            "previous_kept": kept, "stale_layouts": mark_layouts_stale(project, mapping_id)}


def refine_keeping_previous(project, mapping_id: str | None = None, progress: Progress | None = None):
    """`core.refine_pairs.refine_with_pairs` with the replaced map kept for Revert and the layouts
    marked stale. The caller asks the user when `criterion_after < criterion_before` and reverts on No."""
    from core.projection import default_mapping
    from core.refine_pairs import refine_with_pairs

    mapping_id = mapping_id or default_mapping(project)
    if mapping_id is None:
        raise WordbridgeError("this project has no mapping to refine (run alignment first)")
    result, kept = replacing_map(project, mapping_id, lambda: refine_with_pairs(project, mapping_id,
                                                                                 progress=progress))
    result.previous_kept = kept
    result.stale_layouts = mark_layouts_stale(project, mapping_id)
    return result
