"""Synthetic speakers: espeak-ng accents × voice variants × rate × pitch, chosen from a seed.

The bundled espeak-ng-data holds language files under `lang/<family>/<code>` (accents such as
en, en-US, en-GB-x-rp, en-029, en-GB-scotland) and voice variants under `voices/!v/` (m1..m8,
f1..f5, klatt..., and community variants). A speaker is one accent + one variant + a speaking
rate, pitch and pitch range. Speaker `i` of a (language, seed) pair is always the same voice:
accent and variant come from a seeded permutation of all combinations (so the first speakers
are all different), rate and pitch from a generator seeded with (seed, i).
"""

from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from core.errors import WordbridgeError

# Variants that sound like plain speech and do not clip at default settings (checked by synthesising
# one English sentence with every variant in the bundled data: effect voices such as whisper,
# croak, robosoft*, Demonic and the ones whose output saturates int16 are left out).
DEFAULT_VARIANTS = (
    "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "f1", "f2", "f3", "f4", "f5",
    "klatt", "klatt2", "klatt3", "klatt6", "Alex", "Annie", "adam", "aunty", "benjamin", "boris",
    "caleb", "david", "edward2", "grandma", "grandpa", "linda", "max", "michel", "quincy", "rob",
    "robert", "steph", "shelby", "victor", "Mario", "Michael", "Nguyen", "Reed", "kaukovalta",
)
# Accent files that exist but do not read ordinary Latin-script text of the language.
EXCLUDED_ACCENTS = {"en-Shaw"}

RATE_RANGE = (130, 210)  # words per minute
PITCH_RANGE = (30, 70)  # espeak pitch, 0-100 (50 = the variant's own base pitch)
PITCH_SPREAD_RANGE = (30, 80)  # espeak pitch range (intonation), 0-100


@dataclass(frozen=True)
class VoiceSpec:
    """One synthetic speaker: espeak accent + variant, speaking rate and pitch settings."""

    speaker: str  # speaker id, e.g. "spk007"
    language: str  # language code asked for, e.g. "en"
    accent: str  # espeak language file name, e.g. "en-GB-x-rp"
    variant: str  # espeak voice variant, e.g. "m3"; "" for the accent's own voice
    rate: int  # words per minute
    pitch: int  # 0-100
    pitch_range: int  # 0-100

    @property
    def espeak_name(self) -> str:
        """The name to pass to espeak_SetVoiceByName, e.g. "en-GB-x-rp+m3"."""
        return f"{self.accent}+{self.variant}" if self.variant else self.accent

    def to_dict(self) -> dict:
        """Plain dict for corpus metadata."""
        return asdict(self) | {"espeak_voice": self.espeak_name}


@lru_cache(maxsize=None)
def available_accents(data_dir: str | None = None) -> dict[str, str]:
    """All espeak language files in the data dir: {file name (e.g. "en-GB-x-rp"): family path}."""
    root = Path(data_dir) if data_dir else _data_dir()
    accents = {}
    for path in sorted((root / "lang").rglob("*")):
        if path.is_file():
            accents[path.name] = str(path.relative_to(root / "lang"))
    return accents


@lru_cache(maxsize=None)
def available_variants(data_dir: str | None = None) -> tuple[str, ...]:
    """All voice variants (file names under voices/!v) in the data dir."""
    root = Path(data_dir) if data_dir else _data_dir()
    return tuple(sorted(p.name for p in (root / "voices" / "!v").iterdir() if p.is_file()))


def available_languages() -> list[str]:
    """Language codes that have at least one accent file (the part before the first '-')."""
    return sorted({name.split("-")[0].lower() for name in available_accents()})


def accents_for(language: str) -> list[str]:
    """The accent files of `language` ("en" -> en, en-029, en-GB-scotland, ..., en-US-nyc);
    a full accent name ("en-GB-x-rp") selects only that accent."""
    wanted = language.strip().lower()
    names = [n for n in available_accents() if n not in EXCLUDED_ACCENTS]
    exact = [n for n in names if n.lower() == wanted]
    if "-" in wanted:
        found = exact
    else:
        found = [n for n in names if n.lower() == wanted or n.lower().startswith(wanted + "-")]
    if not found:
        raise WordbridgeError(f"espeak-ng has no voice for language {language!r}; available: "
                              + ", ".join(available_languages()))
    return sorted(found, key=lambda n: (n.lower() != wanted, n.lower()))


def default_variants() -> list[str]:
    """The curated variants that are present in the bundled data."""
    present = set(available_variants())
    return [v for v in DEFAULT_VARIANTS if v in present]


def speaker_id(index: int) -> str:
    """The id of speaker `index` ("spk000", "spk001", ...)."""
    return f"spk{index:03d}"


def voice_for_speaker(language: str, index: int, seed: int = 0,
                      variants: list[str] | None = None) -> VoiceSpec:
    """The deterministic voice of speaker `index` for (`language`, `seed`)."""
    if index < 0:
        raise WordbridgeError(f"speaker index must be >= 0, got {index}")
    accents = accents_for(language)
    variants = list(variants) if variants is not None else default_variants()
    unknown = sorted(set(variants) - set(available_variants()))
    if unknown:
        raise WordbridgeError(f"unknown espeak voice variant(s) {', '.join(unknown)}; available: "
                              + ", ".join(available_variants()))
    combos = [(a, v) for a in accents for v in (variants or [""])]
    key = zlib.crc32(language.lower().encode())
    order = np.random.default_rng([seed, key]).permutation(len(combos))
    # Round-robin over the permutation keeps the first len(combos) speakers distinct.
    accent, variant = combos[order[index % len(combos)]]
    rng = np.random.default_rng([seed, key, index])
    return VoiceSpec(
        speaker=speaker_id(index),
        language=language.lower(),
        accent=accent,
        variant=variant,
        rate=int(rng.integers(RATE_RANGE[0], RATE_RANGE[1] + 1)),
        pitch=int(rng.integers(PITCH_RANGE[0], PITCH_RANGE[1] + 1)),
        pitch_range=int(rng.integers(PITCH_SPREAD_RANGE[0], PITCH_SPREAD_RANGE[1] + 1)),
    )


def make_speakers(language: str, count: int, seed: int = 0) -> list[VoiceSpec]:
    """Speakers 0..count-1 of `language` for `seed`."""
    if count < 1:
        raise WordbridgeError(f"need at least one speaker, got {count}")
    return [voice_for_speaker(language, i, seed) for i in range(count)]


def held_out_speakers(speakers: list[VoiceSpec], count: int) -> list[str]:
    """Ids of the speakers reserved for testing: the last `count` (their voices are already a
    seeded random draw, so the last ones are as random as any)."""
    if not 0 <= count < len(speakers):
        raise WordbridgeError(f"--held-out-speakers must be between 0 and {len(speakers) - 1} "
                              f"(there are {len(speakers)} speakers), got {count}")
    return [s.speaker for s in speakers[len(speakers) - count:]]


def _data_dir() -> Path:
    from core.synth.espeak import data_dir

    return data_dir()
