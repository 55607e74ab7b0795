"""Microphone input and playback through sounddevice, imported only when first needed.

No PortAudio library, no sound card, or a device that disappears mid-recording are normal
situations here: they become a message for the recorder widget, never an exception that stops
the app, and whatever was recorded before a device vanished is kept.
"""

from __future__ import annotations

import threading

import numpy as np

RECORD_SR = 16000


def _sounddevice():
    """The sounddevice module, or raise RuntimeError with a message a user can act on."""
    try:
        import sounddevice as sd
    except OSError:
        raise RuntimeError("No audio system: the PortAudio library is missing "
                           "(install libportaudio2). Importing audio files still works.") from None
    except ImportError:
        raise RuntimeError("No audio system: the sounddevice package is not installed. "
                           "Importing audio files still works.") from None
    return sd


def input_devices() -> tuple[list[tuple[int, str]], str | None]:
    """(list of (device index, name) that can record, message when there is none)."""
    try:
        sd = _sounddevice()
        devices = [(i, d["name"]) for i, d in enumerate(sd.query_devices()) if d["max_input_channels"] > 0]
    except RuntimeError as exc:
        return [], str(exc)
    except Exception as exc:  # noqa: BLE001 - PortAudio errors have many types
        return [], f"Cannot list audio devices ({exc}). Importing audio files still works."
    if not devices:
        return [], "No microphone found. Importing audio files (button or drag and drop) still works."
    return devices, None


class InputRecorder:
    """Collects mono float32 blocks from an input stream; tracks the latest peak level.

    The PortAudio callback runs on its own thread; it only appends to a list, which is safe.
    """

    def __init__(self, device: int | str | None = None, sample_rate: int = RECORD_SR):
        self.device = device
        self.sample_rate = sample_rate
        self._blocks: list[np.ndarray] = []
        self._lock = threading.Lock()
        self.peak = 0.0  # peak of the latest block (0..1)
        self.max_peak = 0.0
        self.problem: str | None = None  # set when the stream reported trouble
        self._stream = None

    def start(self) -> None:
        """Open the stream and start recording; raises RuntimeError with a user message."""
        sd = _sounddevice()
        try:
            self._stream = sd.InputStream(device=self.device, channels=1, samplerate=self.sample_rate,
                                          dtype="float32", callback=self._callback,
                                          finished_callback=self._finished)
            self._stream.start()
        except Exception as exc:  # noqa: BLE001
            self._stream = None
            raise RuntimeError(f"Cannot record from this device: {exc}") from None

    def _callback(self, indata, frames, time, status) -> None:  # noqa: ARG002 - PortAudio API
        block = indata[:, 0].copy()
        with self._lock:
            self._blocks.append(block)
        self.peak = float(np.max(np.abs(block))) if len(block) else 0.0
        self.max_peak = max(self.max_peak, self.peak)
        if status and status.input_overflow:
            self.problem = "input overflow (some audio was dropped)"

    def _finished(self) -> None:
        if self._stream is not None and not getattr(self, "_stopping", False):
            self.problem = "the input device stopped (unplugged?); the audio so far was kept"

    @property
    def active(self) -> bool:
        """True while the stream delivers audio."""
        try:
            return self._stream is not None and bool(self._stream.active)
        except Exception:  # noqa: BLE001 - a vanished device can raise here
            return False

    def samples(self) -> np.ndarray:
        """Everything recorded so far."""
        with self._lock:
            return np.concatenate(self._blocks) if self._blocks else np.zeros(0, np.float32)

    def tail(self, n: int) -> tuple[np.ndarray, int]:
        """The last `n` samples and the number recorded in all, without copying the whole recording."""
        with self._lock:
            total = sum(len(b) for b in self._blocks)
            picked, have = [], 0
            for block in reversed(self._blocks):
                picked.append(block)
                have += len(block)
                if have >= n:
                    break
        tail = np.concatenate(picked[::-1])[-n:] if picked else np.zeros(0, np.float32)
        return tail, total

    def stop(self) -> np.ndarray:
        """Stop and close the stream (errors from a lost device are ignored); return the samples."""
        self._stopping = True
        if self._stream is not None:
            try:
                self._stream.stop()
                self._stream.close()
            except Exception as exc:  # noqa: BLE001
                self.problem = self.problem or f"the input device failed ({exc}); the audio so far was kept"
            self._stream = None
        return self.samples()


def play(samples: np.ndarray, sample_rate: int) -> str | None:
    """Start playing `samples` (non-blocking); returns an error message instead of raising."""
    try:
        sd = _sounddevice()
        sd.play(np.asarray(samples, dtype=np.float32), sample_rate)
    except RuntimeError as exc:
        return str(exc)
    except Exception as exc:  # noqa: BLE001
        return f"Cannot play audio: {exc}"
    return None


def stop_playback() -> None:
    """Stop any playback started by `play` (silently does nothing without audio)."""
    try:
        _sounddevice().stop()
    except Exception:  # noqa: BLE001
        pass
