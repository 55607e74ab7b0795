"""`project`: create a Wordbridge project, show what it holds, add spaces and mappings to it."""

from __future__ import annotations

import json
import os
from pathlib import Path

from core.cli import add_command
from core.errors import InputFileError, WordbridgeError
from core.project import Project
from core.project.manifest import SPACE_KINDS, now


def register(sub) -> None:
    """Add the `project` subcommand and its actions (init, info, add-space, add-mapping)."""
    parser = add_command(sub, "project", help="create and inspect Wordbridge projects",
                         description="Create a Wordbridge project folder, show what it holds, and add "
                         "embedding spaces and alignment results to it.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=type(parser))
    parser.set_defaults(func=lambda args: _help(parser))

    init = add_command(actions, "init", help="create a new, empty project folder")
    init.add_argument("dir", metavar="DIR", help="project folder to create (must not exist or be empty)")
    init.add_argument("--name", required=True, help="project name")
    init.add_argument("--description", default="", help="free text describing the project")
    init.add_argument("--language", action="append", default=[], metavar="LANG",
                      help="a language of the project (repeat for several)")
    init.set_defaults(func=run_init)

    info = add_command(actions, "info", help="show the spaces, mappings, projections and counts of a project")
    info.add_argument("dir", metavar="DIR", help="project folder")
    info.add_argument("--json", action="store_true", help="print the manifest and counts as JSON")
    info.add_argument("--check", action="store_true",
                      help="also load every space, mapping, projection and encoder to check its files")
    info.set_defaults(func=run_info)

    space = add_command(actions, "add-space", help="add a word2vec vectors file to a project as a space")
    space.add_argument("dir", metavar="DIR", help="project folder")
    space.add_argument("vectors", metavar="VEC", help="word2vec text or binary file (rows in frequency order)")
    space.add_argument("--id", default="", help="space id (empty: the file name up to its first dot)")
    space.add_argument("--kind", choices=SPACE_KINDS, default="text", help="what the vectors embed")
    space.add_argument("--language", required=True, help="language code of the space, e.g. fr")
    space.add_argument("--max-words", type=int, default=0,
                       help="keep only this many of the most frequent words (0: all)")
    space.add_argument("--synthetic-note", default="",
                       help="for a speech space made from synthetic speech: how it was made "
                       "(marks the space and the project as synthetic)")
    space.add_argument("--replace", action="store_true", help="overwrite a space with the same id")
    space.set_defaults(func=run_add_space)

    mapping = add_command(actions, "add-mapping", help="add an alignment result (run folder or mapping file)")
    mapping.add_argument("dir", metavar="DIR", help="project folder")
    mapping.add_argument("run", metavar="RUN_DIR_OR_SAFETENSORS",
                         help="an alignment run folder (with mapping.safetensors, metrics.json) or a "
                         "safetensors file with a 'W' tensor")
    mapping.add_argument("--source", required=True, help="id of the source space (mapped by W)")
    mapping.add_argument("--target", required=True, help="id of the target space")
    mapping.add_argument("--id", default="", help="mapping id (empty: SOURCE-to-TARGET)")
    mapping.add_argument("--method", default="",
                         help="alignment method to record (empty: read from the mapping file's own header)")
    mapping.add_argument("--replace", action="store_true", help="overwrite a mapping with the same id")
    mapping.set_defaults(func=run_add_mapping)


def _help(parser) -> int:
    parser.print_help()
    return 2


def run_init(args) -> int:
    """Create the project folder."""
    project = Project.create(args.dir, args.name, description=args.description, languages=args.language)
    print(f"created project {project.name!r} in {project.root}")
    return 0


def run_info(args) -> int:
    """Print a summary of the project (or JSON with --json)."""
    project = Project.open(args.dir)
    counts = project.db.counts()
    missing = project.missing_files()
    orphans = [p.name for p in project.orphan_recordings()]
    if args.json:
        print(json.dumps({"manifest": project.manifest.to_json(), "counts": counts, "missing_files": missing,
                          "orphan_recordings": orphans}, indent=2, ensure_ascii=False))
    else:
        _print_summary(project, counts, orphans)
    if missing:
        raise WordbridgeError(f"{project.root}: {len(missing)} file(s) the project refers to are missing: "
                              f"{', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")
    if args.check:
        from core.project.paths import unsafe_references

        unsafe = unsafe_references(project)
        if unsafe:
            raise WordbridgeError(f"{project.root}: {len(unsafe)} unsafe path(s): " + "; ".join(unsafe[:3])
                                  + (" ..." if len(unsafe) > 3 else ""))
        checked = _check_everything(project)
        print(f"checked {checked} item(s): all files load and match the manifest")
    return 0


def _check_everything(project: Project) -> int:
    """Load every stored item; the first damaged file raises its one-line error."""
    from core.voices.fusion import fusion_problem  # numpy only

    m = project.manifest
    for entry in m.spaces:
        project.space(entry.id)
    for entry in m.mappings:
        project.mapping(entry.id)
    for entry in m.projections:
        project.projection(entry.id)
    for entry in m.encoders:
        weights, config = project.encoder(entry.id)
        problem = fusion_problem(weights, config)
        if problem:
            raise WordbridgeError(f"encoder {entry.id!r}: {problem}")
    return len(m.spaces) + len(m.mappings) + len(m.projections) + len(m.encoders)


def _print_summary(project: Project, counts: dict, orphans: list[str]) -> None:
    m = project.manifest
    print(f"project: {m.name}  ({project.root})")
    if m.description:
        print(f"description: {m.description}")
    print(f"schema {m.schema_version}, written by Wordbridge {m.app_version}; created {m.created}, modified {m.modified}")
    print(f"languages: {', '.join(m.languages) or '-'}")
    if m.synthetic_speech:
        print(f"SYNTHETIC SPEECH: {m.synthetic_speech_note}")
    print(f"spaces ({len(m.spaces)}):")
    for s in m.spaces:
        flag = "  [synthetic]" if s.synthetic else ""
        print(f"  {s.id:<20} {s.kind:<6} {s.language or '-':<6} {s.n_words:>8} words × {s.dim} dims{flag}")
    print(f"mappings ({len(m.mappings)}):")
    for g in m.mappings:
        shown = ", ".join(f"{k}={_short(v)}" for k, v in g.metrics.items() if isinstance(v, (int, float)))
        print(f"  {g.id:<20} {g.source} → {g.target}  ({g.method}){'  ' + shown if shown else ''}")
    print(f"encoders ({len(m.encoders)}): {', '.join(e.id for e in m.encoders) or '-'}")
    print(f"projections ({len(m.projections)}):")
    for p in m.projections:
        variance = ""
        if p.explained_variance:
            variance = "  variance " + " + ".join(f"{100 * v:.1f}%" for v in p.explained_variance)
        after = f" after {p.mapping}" if p.alignment == "after" else " before alignment"
        print(f"  {p.id:<20} {p.method} of {', '.join(p.spaces)}: {p.n_points} points{after}{variance}")
    print("recordings: {recordings}, segments: {segments}, confirmed pairs: {confirmed_pairs}, "
          "runs: {runs}".format(**counts))
    if orphans:
        print(f"recordings without a database row (left by an interrupted save): {', '.join(orphans[:10])}")


def run_add_space(args) -> int:
    """Read a vectors file and store it as a space of the project."""
    from core.vectors import load_vectors

    project = Project.open(args.dir)
    path = Path(args.vectors)
    space_id = args.id or path.name.split(".")[0]
    if args.max_words < 0:
        raise WordbridgeError(f"--max-words must be 0 (all) or positive, not {args.max_words}")
    max_rows = args.max_words or None
    embeddings = load_vectors(path, max_rows=max_rows, language=args.language, modality=args.kind)
    shown_name = os.fsencode(path.name).decode("utf-8", "replace")  # a name not valid UTF-8 fits JSON too
    provenance = {"file": shown_name, "added": now(), "max_words": max_rows}  # a name: no local folder
    sidecar = path.with_suffix(".json")
    if sidecar.is_file() and sidecar != path:
        try:
            provenance["made_by"] = json.loads(sidecar.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputFileError(sidecar, f"bad JSON next to the vectors ({exc})") from None
    synthetic = bool(args.synthetic_note)
    if synthetic and args.kind != "speech":
        raise WordbridgeError("--synthetic-note applies to speech spaces only (--kind speech)")
    entry = project.add_space(space_id, embeddings, kind=args.kind, language=args.language, provenance=provenance,
                              synthetic=synthetic, synthetic_note=args.synthetic_note, replace=args.replace)
    print(f"added {entry.kind} space {entry.id!r} ({entry.n_words} words × {entry.dim} dims) to {project.root}")
    return 0


def run_add_mapping(args) -> int:
    """Copy an alignment run's mapping into the project."""
    from core.project.run_import import read_run_mapping

    project = Project.open(args.dir)
    found = read_run_mapping(args.run)
    mapping_id = args.id or f"{args.source}-to-{args.target}"
    entry = project.add_mapping(mapping_id, args.source, args.target, found.W, args.method or found.method,
                                metrics=found.metrics_summary(), extra_arrays=found.arrays,
                                metadata={"imported_from": found.path.name, "run_config": found.config},
                                header=found.header, replace=args.replace)
    print(f"added mapping {entry.id!r} ({entry.source} → {entry.target}, {entry.method}) to {project.root}")
    return 0


def _short(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
