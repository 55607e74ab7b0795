"""Speakers of unsegmented recordings: the sub-folder (the default) or a pattern on the file name.

Field corpora often name the speaker in each file name rather than in a folder, e.g. Mboshi's
`abiayi_2015-09-08-11-07-56_samsung-SM-T530_mdw_elicit_Dico18_14.wav` (speaker `abiayi`). A speaker
pattern is a Python regular expression searched in each file's stem (its name without the
extension); its first group, or the whole match when it has no group, is the speaker (Mboshi:
`^([^_]+)_`). With a pattern, every file must give a speaker: a pattern that matches no file name
at all, or a file whose name it does not match, is a one-line error, not a silent "no speaker".
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from core.corpus.report import find_audio_files, folder_speaker
from core.errors import InputFileError, WordbridgeError


def compile_speaker_pattern(pattern: str | None) -> re.Pattern | None:
    """The compiled pattern (None for None or ""), or a WordbridgeError when it is not a regular expression."""
    if pattern is None or pattern == "":
        return None
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise WordbridgeError(f"speaker pattern {pattern!r} is not a regular expression ({exc})") from None


def stem_speaker(stem: str, pattern: re.Pattern) -> str | None:
    """The speaker `pattern` finds in a file stem: its first group, or the whole match; None when
    it does not match (or gives an empty speaker)."""
    match = pattern.search(stem)
    if match is None:
        return None
    return (match.group(1) if pattern.groups else match.group(0)) or None


def file_speakers(files: list[Path], root: Path, pattern: str | None = None) -> dict[Path, str | None]:
    """Each file's speaker: from its stem by `pattern` when given, else its folder relative to `root`
    (None for files in the root). A pattern matching no stem, or not one of them, is a WordbridgeError."""
    compiled = compile_speaker_pattern(pattern)
    if compiled is None:
        return {path: folder_speaker(path, root) for path in files}
    speakers = {path: stem_speaker(path.stem, compiled) for path in files}
    if files and not any(speakers.values()):
        raise WordbridgeError(f"speaker pattern {pattern!r} matches none of the {len(files)} file names "
                              f"(e.g. {files[0].stem!r}); for Mboshi-style names try '^([^_]+)_'")
    for path, speaker in speakers.items():
        if speaker is None:
            raise InputFileError(path, f"file name gives no speaker by speaker pattern {pattern!r} "
                                       "(other files' names do)")
    return speakers


def check_speaker_pattern(source: str | os.PathLike, pattern: str | None) -> None:
    """Check a speaker pattern against the audio files under `source` before a build starts (the
    command line and the app); nothing to check without a pattern."""
    if compile_speaker_pattern(pattern) is not None:
        file_speakers(find_audio_files(source), Path(source), pattern)
