"""A ctypes binding to libespeak-ng as bundled by the `espeakng-loader` wheel (no system package).

espeak-ng runs in synchronous mode: `espeak_Synth` returns when the whole text is spoken, and a
callback receives the samples (16-bit, 22050 Hz) together with events. We keep the WORD events
(start of a word, with its character position in the text) and the PHONEME events (to find the
pauses that end a word before silence). The library keeps global state and is not thread-safe:
one engine per process, guarded by a lock; parallel work uses processes.
"""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from core.errors import WordbridgeError

# espeak_AUDIO_OUTPUT, espeak_EVENT_TYPE, espeak_PARAMETER and flag values from speak_lib.h.
AUDIO_OUTPUT_SYNCHRONOUS = 2
INITIALIZE_PHONEME_EVENTS = 0x0001
INITIALIZE_DONT_EXIT = 0x8000
EVENT_LIST_TERMINATED = 0
EVENT_WORD = 1
EVENT_PHONEME = 7
POS_CHARACTER = 1
CHARS_UTF8 = 1
PARAM_RATE = 1
PARAM_PITCH = 3
PARAM_RANGE = 4
PARAM_WORDGAP = 7
EE_OK = 0


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),  # 1-based character (code point) position
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),  # milliseconds
        ("sample", ctypes.c_int),  # sample index from the start of the synthesis
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),  # union: number / name pointer / phoneme mnemonic
    ]


_Callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                             ctypes.POINTER(_Event))


@dataclass(frozen=True)
class SynthEvents:
    """What one espeak_Synth call produced (positions are 0-based characters of the input)."""

    samples: bytes  # int16 little-endian mono
    sample_rate: int
    words: list[tuple[int, int]]  # (char_position, sample) of each WORD event, in emission order
    phonemes: list[tuple[int, bool]]  # (sample, is_pause) of each PHONEME event; pauses are "_", "_:"...
    end_sample: int  # total number of samples


def library_paths() -> tuple[str, str]:
    """Return (shared library path, espeak-ng-data path) of the `espeakng-loader` wheel."""
    try:
        import espeakng_loader
    except ImportError as exc:
        raise WordbridgeError("speech synthesis needs the 'espeakng-loader' package "
                              "(pip install espeakng-loader)") from exc
    return espeakng_loader.get_library_path(), espeakng_loader.get_data_path()


def data_dir() -> Path:
    """The espeak-ng-data folder bundled with `espeakng-loader`."""
    return Path(library_paths()[1])


@lru_cache(maxsize=1)
def loader_version() -> str:
    """Version of the installed `espeakng-loader` wheel."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("espeakng-loader")
    except PackageNotFoundError:
        return "unknown"


class EspeakEngine:
    """One initialised espeak-ng library in this process (use `engine()` to get it)."""

    def __init__(self):
        lib_path, data_path = library_paths()
        try:
            lib = ctypes.CDLL(lib_path)
        except OSError as exc:
            raise WordbridgeError(f"{lib_path}: cannot load libespeak-ng ({exc})") from exc
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                     ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        lib.espeak_Info.restype = ctypes.c_char_p
        lib.espeak_Info.argtypes = [ctypes.c_void_p]
        rate = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 1000, data_path.encode(),
                                     INITIALIZE_PHONEME_EVENTS | INITIALIZE_DONT_EXIT)
        if rate <= 0:
            raise WordbridgeError(f"{data_path}: espeak-ng failed to initialise (code {rate})")
        self._lib = lib
        self.sample_rate = rate
        self.version = (lib.espeak_Info(None) or b"?").decode()
        self._lock = threading.Lock()
        self._voice: str | None = None
        self._chunks: list[bytes] = []
        self._words: list[tuple[int, int]] = []
        self._phonemes: list[tuple[int, bool]] = []
        self._end = 0
        self._callback = _Callback(self._on_synth)  # keep a reference: C holds only a pointer
        lib.espeak_SetSynthCallback(self._callback)

    def _on_synth(self, wav, n_samples, events) -> int:
        if n_samples > 0:
            self._chunks.append(ctypes.string_at(wav, n_samples * 2))
        i = 0
        while True:
            event = events[i]
            kind = event.type
            if kind == EVENT_LIST_TERMINATED:
                break
            if kind == EVENT_WORD:
                self._words.append((event.text_position - 1, event.sample))
            elif kind == EVENT_PHONEME:
                self._phonemes.append((event.sample, event.id[:1] == b"_"))
            if event.sample > self._end:
                self._end = event.sample
            i += 1
        return 0  # 0 = continue synthesis

    def synthesize(self, text: str, voice: str, rate: int, pitch: int, pitch_range: int,
                   word_gap: int = 0) -> SynthEvents:
        """Speak `text` with espeak voice name `voice` ("en-us+m3"); rate in words/minute,
        pitch and pitch_range 0-100, word_gap in units of 10 ms. Returns samples and events."""
        with self._lock:
            if voice != self._voice:
                code = self._lib.espeak_SetVoiceByName(voice.encode())
                if code != EE_OK:
                    self._voice = None
                    raise WordbridgeError(f"espeak-ng has no voice {voice!r}")
                self._voice = voice
            for param, value in ((PARAM_RATE, rate), (PARAM_PITCH, pitch), (PARAM_RANGE, pitch_range),
                                 (PARAM_WORDGAP, word_gap)):
                self._lib.espeak_SetParameter(param, int(value), 0)
            self._chunks, self._words, self._phonemes, self._end = [], [], [], 0
            data = text.encode("utf-8") + b"\0"
            code = self._lib.espeak_Synth(data, len(data), 0, POS_CHARACTER, 0, CHARS_UTF8, None, None)
            if code != EE_OK:
                raise WordbridgeError(f"espeak-ng failed to speak the text (code {code}): {text[:60]!r}")
            self._lib.espeak_Synchronize()
            samples = b"".join(self._chunks)
            end = max(self._end, len(samples) // 2)
            result = SynthEvents(samples, self.sample_rate, self._words, self._phonemes, end)
            self._chunks, self._words, self._phonemes = [], [], []
            return result


_ENGINE: EspeakEngine | None = None
_ENGINE_LOCK = threading.Lock()


def engine() -> EspeakEngine:
    """The process's espeak-ng engine, initialised on first use."""
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            _ENGINE = EspeakEngine()
        return _ENGINE
