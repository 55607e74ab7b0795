"""Google's speech_embedding (TF Hub "speech_embedding", Apache-2.0) as a torch front end.

What it is: a small convolutional network (Lin et al., "Training keyword spotters with limited
and synthesized speech data", ICASSP 2020, arXiv 2002.01322) that maps 76 frames × 32 mel bins
(0.78 s of 16-kHz audio) to one 96-d vector. Google trained it WITH LABELS: on English keyword
(word) classification over a large internal corpus, so its space separates English words; for
other languages it is a generic, English-biased acoustic embedding. Licence: Apache-2.0.

The reference implementation is the ONNX pair inside the PyPI wheel openwakeword==0.4.0
(resources/models/melspectrogram.onnx and embedding_model.onnx). `convert_openwakeword` copies
their weights into a .safetensors file; `SpeechEmbeddingNet` re-implements both graphs in torch
(so the front end batches on a GPU and the app needs no ONNX runtime). openwakeword's own
wake-word models in that wheel are CC BY-NC-SA and are NOT used or converted.

Matches onnxruntime (onnxruntime 1.32, CPU): on the formant-synthesised vowels of
tests/test_frontends.py, mel after openwakeword's `x/10 + 2` max |Δ| = 1.9e-6 (values span 5),
embedding max |Δ| = 5.0e-5 (values span 79); on 10 real recordings (Mboshi, speechocean762)
1.5e-5 (1.8e-6 of the range) and 3.8e-5 (3.1e-7 of the range). The test's tolerance is 1e-3 of
the output's range. CPU speed for a 1-s clip, one torch thread, median of 20 calls on the 2-core
development machine under load: 16 ms at the 40-ms hop, 9 ms at 80 ms (MFCC: 0.4 ms).

Frame semantics (`frames`): the signal is scaled so its loudest 20-ms frame has an RMS of
LEVEL_DBFS (removes the recording level), then zero-padded (digital silence) by half a window on
each side, so frame t is the embedding of the 0.78-s window centred on t·hop (hop 40 ms by
default: 25 frames/s, twice openwakeword's 8-mel-frame step). A signal of n samples gives
n // hop_samples + 1 frames: a 0.2-s word gives 6 frames, a 1-s word 26. Leading or trailing
silence adds frames but hardly changes the word's own frames (0.32 s of -70-dBFS noise before
a 0.6-s word: cosine >= 0.989 between its frames with and without it), and a 20-dB quieter
recording gives the same frames to 1e-3 of their range. The 80-dB floor under the loudest mel
value is taken per signal (the ONNX graph takes it over its whole batch), so batching never
changes a signal's frames. Frames are not mean/variance normalised.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from core.errors import WordbridgeError
from core.frontends.base import FrontEnd, check_keys, resolve_device

ENV_VAR = "WORDBRIDGE_SPEECH_EMBEDDING"
WEIGHTS_ID = "openwakeword-0.4.0"
CACHE_NAME = "speech_embedding-openwakeword-0.4.0.safetensors"
MEL_HOP, N_FFT, N_MELS, WINDOW_MELS, EMBED_DIM = 160, 512, 32, 76, 96
WINDOW_SAMPLES = (WINDOW_MELS - 1) * MEL_HOP + N_FFT  # 12512 samples = 0.782 s
HALF_WINDOW = WINDOW_SAMPLES // 2
NET_STEP = 8  # mel frames between the network's outputs on a long input (its time pooling)
INT16_SCALE = 32767.0  # openwakeword feeds int16-valued samples
LEVEL_DBFS = -16.0  # loudest 20-ms frame's RMS after level normalisation
TOP_DB = 80.0
BLOCK_MELS = 6000  # long signals are computed in 60-s blocks
# (in, out, kernel) of conv1..conv18; odd ones are (1, 3) with frequency padding 1
_CHANNELS = [24, 24, 24, 48, 48, 48, 48, 72, 72, 72, 72, 96, 96, 96, 96, 96, 96, 96, 96]
_POOL_AFTER = {2: (2, 2), 6: (1, 2), 10: (2, 2), 14: (1, 2), 18: (2, 2)}


def _torch_modules():
    import torch
    import torch.nn.functional as F
    from torch import nn

    class SpeechEmbeddingNet(nn.Module):
        """melspectrogram.onnx + embedding_model.onnx of openwakeword 0.4.0, in torch."""

        def __init__(self):
            super().__init__()
            self.register_buffer("stft_real", torch.zeros(257, 1, N_FFT))
            self.register_buffer("stft_imag", torch.zeros(257, 1, N_FFT))
            self.register_buffer("mel_basis", torch.zeros(257, N_MELS))
            self.conv0 = nn.Conv2d(1, 24, 3, bias=False)
            self.bn0 = nn.BatchNorm2d(24, eps=1e-3)
            self.convs = nn.ModuleList(
                nn.Conv2d(_CHANNELS[i - 1], _CHANNELS[i], (1, 3) if i % 2 else (3, 1), padding=(0, 1) if i % 2 else 0)
                for i in range(1, 19))
            self.conv19 = nn.Conv2d(96, EMBED_DIM, (3, 1), bias=False)

        def mel_db(self, x):
            """[B, S] int16-scaled samples → [B, (S - 512) // 160 + 1, 32] mel power in dB (no floor)."""
            x = x.unsqueeze(1)
            real = F.conv1d(x, self.stft_real, stride=MEL_HOP)
            imag = F.conv1d(x, self.stft_imag, stride=MEL_HOP)
            power = (real * real + imag * imag).transpose(1, 2)
            return torch.log(torch.clamp_min(power @ self.mel_basis, 1e-10)) * (10.0 / float(np.log(10.0)))

        def embed(self, mel):
            """[B, 76 + 8j, 32] transformed mel → [B, j + 1, 96]: windows starting every 8 mel frames."""
            x = F.pad(mel.unsqueeze(1), (1, 1))
            x = torch.clamp_min(F.leaky_relu(self.bn0(F.relu(self.conv0(x))), 0.2), -0.4)
            for i, conv in enumerate(self.convs, start=1):
                x = torch.clamp_min(F.leaky_relu(conv(x), 0.2), -0.4)
                if i in _POOL_AFTER:
                    x = F.max_pool2d(x, _POOL_AFTER[i])
            return self.conv19(x)[:, :, :, 0].transpose(1, 2)

    return SpeechEmbeddingNet


def build_net():
    """An uninitialised `SpeechEmbeddingNet` (torch module; load weights with `load_net`)."""
    return _torch_modules()()


def convert_openwakeword(out_path, models_dir=None) -> Path:
    """Copy the speech_embedding weights from openwakeword 0.4.0's ONNX files into a .safetensors file.

    `models_dir` defaults to the installed openwakeword's resources/models. Needs the `onnx`
    package (not onnxruntime). The file is written atomically; returns its path.
    """
    from core.atomic import save_safetensors

    models = Path(models_dir) if models_dir is not None else _openwakeword_models()
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:
        raise WordbridgeError("converting speech_embedding needs the onnx package (pip install onnx)") from None
    import torch

    state, digests = {}, {}
    for file, role in (("melspectrogram.onnx", "mel"), ("embedding_model.onnx", "embed")):
        path = models / file
        if not path.is_file():
            raise WordbridgeError(f"{path}: not found (install openwakeword==0.4.0)")
        digests[role] = hashlib.sha256(path.read_bytes()).hexdigest()
        graph = onnx.load(str(path)).graph
        inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
        kinds = ("Conv", "BatchNormalization", "MatMul")
        nodes = [(n.op_type, list(n.input)) for n in graph.node if n.op_type in kinds]
        arrays = [[inits[name] for name in inputs if name in inits] for _, inputs in nodes]
        if role == "mel":
            names = [["stft_real"], ["stft_imag"], ["mel_basis"]]
        else:
            names = [["conv0.weight"], ["bn0.weight", "bn0.bias", "bn0.running_mean", "bn0.running_var"]]
            names += [[f"convs.{i}.weight", f"convs.{i}.bias"] for i in range(18)] + [["conv19.weight"]]
        if [len(a) for a in arrays] != [len(n) for n in names]:
            raise WordbridgeError(f"{path}: not the speech_embedding graph of openwakeword 0.4.0")
        for keys, values in zip(names, arrays):
            for key, value in zip(keys, values):
                state[key] = torch.from_numpy(np.array(value, dtype=np.float32))
    net = build_net()
    _load_state(net, state, str(models))
    save_safetensors(out_path, {k: v.contiguous() for k, v in state.items()},  # a full disk: one line
                     metadata={"source": f"{WEIGHTS_ID} resources/models (Google speech_embedding, Apache-2.0)",
                               "sha256_melspectrogram_onnx": digests["mel"],
                               "sha256_embedding_model_onnx": digests["embed"]})
    return Path(out_path)


def weights_path() -> Path:
    """The converted weights: $WORDBRIDGE_SPEECH_EMBEDDING, else the user cache (converted on first use)."""
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        path = Path(env).expanduser()
        if not path.is_file():
            raise WordbridgeError(f"{path}: speech_embedding weights not found (${ENV_VAR})")
        return path
    import platformdirs

    cached = Path(platformdirs.user_cache_dir("wordbridge")) / CACHE_NAME
    if cached.is_file():
        return cached
    try:
        models = _openwakeword_models()
    except WordbridgeError:
        raise WordbridgeError(f"speech_embedding weights not found: set ${ENV_VAR} to a file made by "
                              f"scripts/convert_speech_embedding.py, or pip install openwakeword==0.4.0 onnx") from None
    return convert_openwakeword(cached, models)


def weights_missing() -> str:
    """'' when `weights_path()` finds the weights or can convert them; else why not, in one line (the
    error `weights_path()` would raise). Reads no weights and converts nothing: cheap enough for a form."""
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        path = Path(env).expanduser()
        return "" if path.is_file() else f"{path}: speech_embedding weights not found (${ENV_VAR})"
    import platformdirs

    if (Path(platformdirs.user_cache_dir("wordbridge")) / CACHE_NAME).is_file():
        return ""
    try:
        models = _openwakeword_models()
    except WordbridgeError:
        models = None
    if (models is not None and (models / "melspectrogram.onnx").is_file()
            and (models / "embedding_model.onnx").is_file() and importlib.util.find_spec("onnx") is not None):
        return ""
    return (f"speech_embedding weights not found: set ${ENV_VAR} to a file made by "
            "scripts/convert_speech_embedding.py, or pip install openwakeword==0.4.0 onnx")


def load_net(path=None, device="cpu"):
    """The torch `SpeechEmbeddingNet` with weights from `path` (default `weights_path()`), in eval mode."""
    return _cached_net(str(path if path is not None else weights_path()), str(resolve_device(device)))


@lru_cache(maxsize=4)
def _cached_net(path: str, device: str):
    from core.atomic import load_safetensors

    try:
        state = load_safetensors(path, torch=True)
    except WordbridgeError as exc:  # missing, truncated or damaged: one line naming the file
        raise WordbridgeError(f"not a speech_embedding .safetensors file: {exc}") from None
    net = build_net()
    _load_state(net, state, path)
    return net.eval().to(device)


def _load_state(net, state: dict, where: str) -> None:
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        lines = [s.strip() for s in str(exc).splitlines() if s.strip()]
        raise WordbridgeError(f"{where}: weights do not fit speech_embedding ({lines[-1][:160]})") from None


def _openwakeword_models() -> Path:
    spec = importlib.util.find_spec("openwakeword")
    if spec is None or not spec.submodule_search_locations:
        raise WordbridgeError("openwakeword is not installed (pip install openwakeword==0.4.0)")
    return Path(list(spec.submodule_search_locations)[0]) / "resources" / "models"


class SpeechEmbeddingFrontEnd(FrontEnd):
    """Google's speech_embedding: 96-d frames every `hop_ms` (40 ms: 25 frames/s), each from a 0.78-s window."""

    name = "speech-embedding"
    segment_mode = "own-audio"

    def __init__(self, hop_ms: float = 40.0, segment_margin_s: float = 0.0, weights: str = WEIGHTS_ID):
        """`hop_ms` one of 10, 20, 40, 80; `segment_margin_s`: audio kept on each side of a word segment."""
        if hop_ms not in (10, 20, 40, 80):
            raise WordbridgeError(f"speech-embedding hop must be 10, 20, 40 or 80 ms, got {hop_ms}")
        if not 0.0 <= float(segment_margin_s) <= 1.0:
            raise WordbridgeError(f"segment margin must be between 0 and 1 s, got {segment_margin_s}")
        if weights != WEIGHTS_ID:
            raise WordbridgeError(f"speech-embedding weights {weights!r} are unknown (this program has {WEIGHTS_ID})")
        self.hop_ms, self.segment_margin_s, self.weights = float(hop_ms), float(segment_margin_s), weights
        self.step = int(self.hop_ms * 16) // MEL_HOP  # mel frames per output frame

    @classmethod
    def from_config(cls, config: dict) -> "SpeechEmbeddingFrontEnd":
        """Rebuild from `config()`."""
        check_keys("speech-embedding", config, ("hop_ms", "segment_margin_s", "weights"))
        return cls(**{k: v for k, v in config.items() if k != "name"})

    @property
    def dim(self) -> int:
        """96."""
        return EMBED_DIM

    @property
    def frame_rate(self) -> float:
        """1000 / hop_ms (25 frames/s by default)."""
        return 1000.0 / self.hop_ms

    def config(self) -> dict:
        """{"name", "hop_ms", "segment_margin_s", "weights"}."""
        return {"name": self.name, "hop_ms": self.hop_ms, "segment_margin_s": self.segment_margin_s,
                "weights": self.weights}

    def provenance(self) -> str:
        """Google speech_embedding, Apache-2.0, trained by Google with English keyword labels."""
        return ("Google speech_embedding (TF Hub, arXiv 2002.01322), Apache-2.0; trained by Google "
                "WITH English keyword (word) labels on its own speech data, so it knows English words. "
                f"Weights from the ONNX files in the openwakeword 0.4.0 wheel, run in torch; 96 dims "
                f"every {self.hop_ms:g} ms from 0.78-s windows.")

    def batch_frames(self, signals, device=None, max_batch_samples: int = 16000 * 600) -> list[np.ndarray]:
        """Frames of each signal (see the module docstring); batches of at most `max_batch_samples` padded samples."""
        import torch

        device = resolve_device(device)
        net = load_net(device=device)
        prepared = [self._prepare(s) for s in signals]
        results: list[np.ndarray | None] = [None] * len(prepared)
        order = sorted(range(len(prepared)), key=lambda i: len(prepared[i][0]))
        batch: list[int] = []
        with torch.inference_mode():
            for i in order:
                if len(prepared[i][0]) > BLOCK_MELS * MEL_HOP:  # long: alone, in blocks
                    results[i] = self._long(net, prepared[i], device)
                    continue
                if (len(batch) + 1) * len(prepared[i][0]) > max_batch_samples and batch:
                    self._run(net, [prepared[j] for j in batch], batch, results, device)
                    batch = []
                batch.append(i)
            if batch:
                self._run(net, [prepared[j] for j in batch], batch, results, device)
        return results  # type: ignore[return-value]

    def _prepare(self, signal) -> tuple[np.ndarray, int]:
        x = np.asarray(signal, dtype=np.float32).reshape(-1)
        if x.size == 0:
            raise WordbridgeError("cannot compute frames of an empty signal")
        hop = self.step * MEL_HOP
        n_frames = len(x) // hop + 1
        loudest = _loudest_rms(x)
        gain = 10 ** (LEVEL_DBFS / 20) / loudest if loudest > 1e-5 else 1.0
        padded = np.zeros((n_frames - 1) * hop + WINDOW_SAMPLES, dtype=np.float32)
        padded[HALF_WINDOW:HALF_WINDOW + len(x)] = x * np.float32(gain * INT16_SCALE)
        return padded, n_frames

    def _run(self, net, items, rows, results, device) -> None:
        import torch

        width = max(len(p) for p, _ in items)
        stack = np.zeros((len(items), width), dtype=np.float32)
        for r, (p, _) in enumerate(items):
            stack[r, :len(p)] = p
        mel = net.mel_db(torch.from_numpy(stack).to(device))
        n_mels = [(len(p) - N_FFT) // MEL_HOP + 1 for p, _ in items]
        for r, m in enumerate(n_mels):  # per-signal 80-dB floor under its own maximum
            mel[r, :m] = torch.maximum(mel[r, :m], mel[r, :m].max() - TOP_DB)
        emb = self._embed(net, mel / 10 + 2, max(t for _, t in items))
        for r, (row, (_, t)) in enumerate(zip(rows, items)):
            results[row] = emb[r, :t].float().cpu().numpy()

    def _embed(self, net, mel, n_frames: int):
        """Frames 0..n_frames-1 (window t starts at mel frame t·step) of transformed mel [B, M, 32]."""
        import torch

        per = NET_STEP // self.step
        out = torch.zeros(mel.shape[0], n_frames, EMBED_DIM, device=mel.device)
        for phase in range(per):
            count = len(range(phase, n_frames, per))
            if count:
                start = phase * self.step
                out[:, phase::per] = net.embed(mel[:, start:start + WINDOW_MELS + NET_STEP * (count - 1)])
        return out

    def _long(self, net, item, device) -> np.ndarray:
        import torch

        padded, n_frames = item
        n_mels = (len(padded) - N_FFT) // MEL_HOP + 1
        mel = torch.cat([net.mel_db(torch.from_numpy(padded[f0 * MEL_HOP:(min(n_mels, f0 + BLOCK_MELS) - 1) * MEL_HOP
                                                           + N_FFT].copy()).to(device)[None])[0]
                         for f0 in range(0, n_mels, BLOCK_MELS)])
        mel = torch.maximum(mel, mel.max() - TOP_DB) / 10 + 2
        block = BLOCK_MELS // self.step
        parts = [self._embed(net, mel[None, t0 * self.step:], min(block, n_frames - t0))[0]
                 for t0 in range(0, n_frames, block)]
        return torch.cat(parts).float().cpu().numpy()


def _loudest_rms(x: np.ndarray, frame: int = 320) -> float:
    """RMS of the loudest 20-ms frame (the whole signal when shorter)."""
    if len(x) < frame:
        return float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))
    n = len(x) // frame
    frames = x[:n * frame].astype(np.float64).reshape(n, frame)
    tail = x[n * frame:]
    rms = np.sqrt((frames ** 2).mean(axis=1)).max()
    return float(max(rms, np.sqrt(np.mean(tail.astype(np.float64) ** 2)) if len(tail) else 0.0))
