"""A self-supervised checkpoint the user already has (wav2vec 2.0, HuBERT, XLS-R) as a front end.

The model is torchaudio's `wav2vec2_model` (HuBERT and XLS-R are the same class with other
hyper-parameters), built from a small dict of its keyword arguments, with the weights of the
checkpoint (torchaudio state-dict names). Frames are the output of one transformer layer
(`extract_features`, 1-based `layer`), 50 frames/s for the usual 320-sample stride.

Files read, nothing downloaded and nothing unpickled:
- CHECKPOINT.safetensors, its hyper-parameters in the file's metadata under "wordbridge_ssl"
  (a JSON string) or in CHECKPOINT.safetensors.json / CHECKPOINT.json beside it;
- a torch file (.pt, .pth, .bin) read with `torch.load(..., weights_only=True)`: a dict of
  tensors, or {"state_dict": {...}, "config": {...}}; anything that needs unpickling of other
  Python objects is refused with a one-line WordbridgeError.
Hyper-parameters: {"params": {wav2vec2_model kwargs}, "layer": 6, "normalize_waveform": bool
(default: true for layer-norm extractors, as XLS-R / large models expect), and, for
`provenance()`, optional "model", "licence", "trained_on"}.

Where the checkpoint is recorded (issue 17). `config()` names the file by its absolute path (what
this process reads, worker processes included); what a store header or a speech space's encoder
config writes down is `checkpoint_record(config, root)`: in a project (`root`), the path relative
to the project root, the file copied to `<project>/frontends/<name>-<sha256[:12]><suffix>` first
when it lies outside the project (atomic, free space checked; a hyper-parameter file beside it is
copied too); outside a project, its file name. Both keep the file's full "sha256". `locate_checkpoint`
finds the file again at load time (relative to the project root, by name under frontends/, beside
the store, in the folders of $WORDBRIDGE_SSL_CHECKPOINTS, or the file this process already read with
that sha256) or says in one line that it is not there.

Segments use their own audio ("own-audio", see core.frontends.base): the transformer sees the
whole input, so a word cut out of running speech would otherwise carry its neighbours.
Signals shorter than the convolutional receptive field (400 samples) are zero-padded to it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from functools import lru_cache
from pathlib import Path, PurePosixPath

import numpy as np

from core.errors import WordbridgeError
from core.frontends.base import FrontEnd, check_keys, resolve_device

META_KEY = "wordbridge_ssl"
PROJECT_FOLDER = "frontends"  # where a project keeps its copies of ssl checkpoints
SEARCH_ENV = "WORDBRIDGE_SSL_CHECKPOINTS"  # folders (os.pathsep-separated) searched for a store's checkpoint
TORCH_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt")
# torchaudio's parametrised weight norm vs the older weight_g / weight_v names
_RENAMES = {"pos_conv_embed.conv.weight_g": "pos_conv_embed.conv.parametrizations.weight.original0",
            "pos_conv_embed.conv.weight_v": "pos_conv_embed.conv.parametrizations.weight.original1"}


def save_ssl_checkpoint(path, model, params: dict, layer: int, **info) -> Path:
    """Write a torchaudio Wav2Vec2Model's weights and hyper-parameters as one .safetensors file.

    `params` are the `torchaudio.models.wav2vec2_model` keyword arguments the model was built
    with; `info` may add "model", "licence", "trained_on", "normalize_waveform".
    """
    from core.atomic import save_safetensors

    meta = {"params": params, "layer": int(layer), **info}
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_safetensors(path, state, metadata={META_KEY: json.dumps(meta)})  # a full disk: one line
    return Path(path)


def read_checkpoint(path) -> tuple[dict, dict]:
    """(state dict of torch tensors, hyper-parameter dict) of a checkpoint file; see the module docstring."""
    state, meta, _ = _read(path)
    return state, meta


def _read(path) -> tuple[dict, dict, Path | None]:
    """`read_checkpoint` plus the hyper-parameter file beside the checkpoint it read (None: in the file)."""
    path = Path(path)
    sidecar = None
    if not path.is_file():
        raise WordbridgeError(f"{path}: checkpoint not found")
    meta = None
    if path.suffix == ".safetensors":
        from core.atomic import load_safetensors, read_safetensors_metadata

        try:  # a truncated or damaged file: one line naming it
            stored = read_safetensors_metadata(path).get(META_KEY)
            state = load_safetensors(path, torch=True)
        except WordbridgeError as exc:
            raise WordbridgeError(f"not a readable .safetensors checkpoint: {exc}") from None
        if stored:
            meta = _parse_meta(path, stored)
    elif path.suffix in TORCH_SUFFIXES:
        state, meta = _read_torch(path)
    else:
        raise WordbridgeError(f"{path}: checkpoint must be .safetensors or a torch file ({', '.join(TORCH_SUFFIXES)})")
    if meta is None:
        for side in (Path(f"{path}.json"), path.with_suffix(".json")):
            if side.is_file():
                meta, sidecar = _parse_meta(side, side.read_text(encoding="utf-8")), side
                break
    if meta is None:
        raise WordbridgeError(f"{path}: no hyper-parameters (metadata '{META_KEY}' or {path.name}.json beside it)")
    if not isinstance(meta.get("params"), dict):
        raise WordbridgeError(f"{path}: hyper-parameters need a 'params' object (wav2vec2_model arguments)")
    return state, meta, sidecar


def _read_torch(path: Path) -> tuple[dict, dict | None]:
    import torch

    try:
        obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # UnpicklingError, RuntimeError, ...: refused, nothing was unpickled
        raise WordbridgeError(f"{path}: refused: not a plain tensor file, it needs unpickling of Python "
                              f"objects ({_first(exc)[:80]})") from None
    meta = None
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        meta = obj.get("config") if isinstance(obj.get("config"), dict) else None
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise WordbridgeError(f"{path}: not a state dict (name → tensor)")
    return obj, meta


def _parse_meta(where: Path, text: str) -> dict:
    try:
        meta = json.loads(text)
    except ValueError as exc:
        raise WordbridgeError(f"{where}: hyper-parameters are not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise WordbridgeError(f"{where}: hyper-parameters must be a JSON object")
    return meta


def _first(exc: Exception) -> str:
    lines = [s.strip() for s in str(exc).splitlines() if s.strip()]
    return lines[0] if lines else type(exc).__name__


def build_model(state: dict, meta: dict, where: str):
    """A torchaudio Wav2Vec2Model from hyper-parameters, with `state` loaded strictly (eval mode)."""
    from torchaudio.models import wav2vec2_model

    params = dict(meta["params"])
    if params.get("extractor_conv_layer_config") is not None:
        params["extractor_conv_layer_config"] = [tuple(c) for c in params["extractor_conv_layer_config"]]
    try:
        model = wav2vec2_model(**params)
    except (TypeError, ValueError, AssertionError, RuntimeError) as exc:
        raise WordbridgeError(f"{where}: hyper-parameters do not build a wav2vec2_model ({_first(exc)})") from None
    state = {next((k.replace(old, new) for old, new in _RENAMES.items() if k.endswith(old)), k): v
             for k, v in state.items()}
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        example = (missing or unexpected)[0]
        raise WordbridgeError(f"{where}: not a checkpoint of this wav2vec2/HuBERT model ({len(missing)} missing "
                              f"and {len(unexpected)} unexpected weights, e.g. {example!r})")
    wrong = [k for k in expected if tuple(expected[k].shape) != tuple(state[k].shape)]
    if wrong:
        raise WordbridgeError(f"{where}: weight {wrong[0]!r} has shape {tuple(state[wrong[0]].shape)}, the model "
                              f"needs {tuple(expected[wrong[0]].shape)} ({len(wrong)} weights of the wrong shape)")
    model.load_state_dict(state, strict=True)
    return model.eval()


class SslFrontEnd(FrontEnd):
    """Output of transformer layer `layer` of a wav2vec 2.0 / HuBERT / XLS-R checkpoint on disk."""

    name = "ssl"
    segment_mode = "own-audio"

    def __init__(self, path, layer: int | None = None, segment_margin_s: float = 0.0, sha256: str | None = None):
        """Read the checkpoint's hyper-parameters (weights load on first use); `layer` overrides the file's."""
        self.path = Path(path).expanduser().resolve()
        state, meta, self.sidecar = _read(self.path)
        self.meta = meta
        self.sha256 = file_sha256(self.path)
        if sha256 is not None and sha256 != self.sha256:
            raise WordbridgeError(f"{self.path}: checkpoint has changed since this space was built (sha256 differs)")
        _KNOWN[self.sha256] = self.path
        params = meta["params"]
        n_layers = int(params.get("encoder_num_layers", 0))
        self.layer = int(layer if layer is not None else meta.get("layer", n_layers))
        if not 1 <= self.layer <= n_layers:
            raise WordbridgeError(f"{self.path}: layer {self.layer} is not between 1 and {n_layers}")
        self.segment_margin_s = float(segment_margin_s)
        self._dim = int(params["encoder_embed_dim"])
        convs = params.get("extractor_conv_layer_config") or [(512, 10, 5)] + [(512, 3, 2)] * 4 + [(512, 2, 2)] * 2
        self.stride = int(np.prod([c[2] for c in convs]))
        field = 1
        for _, kernel, stride in reversed(convs):
            field = (field - 1) * stride + kernel
        self.receptive_field = field
        self.group_norm = params.get("extractor_mode", "group_norm") == "group_norm"
        self.normalize = bool(meta.get("normalize_waveform", not self.group_norm))
        # fails now, not at the first clip, if the weights do not fit; kept for the CPU
        _remember((str(self.path), self.sha256, "cpu"), build_model(state, meta, str(self.path)))

    @classmethod
    def from_config(cls, config: dict, root=None, near=()) -> "SslFrontEnd":
        """Rebuild from `config()` or a stored record (`checkpoint_record`), the file found by
        `locate_checkpoint(config, root, near)` and checked to be the same by its sha256."""
        check_keys("ssl", config, ("path", "layer", "segment_margin_s", "sha256"))
        if "path" not in config:
            raise WordbridgeError("ssl front-end config has no checkpoint 'path'")
        return cls(locate_checkpoint(config, root, near), config.get("layer"), config.get("segment_margin_s", 0.0),
                   config.get("sha256"))

    @property
    def dim(self) -> int:
        """The model's encoder_embed_dim."""
        return self._dim

    @property
    def frame_rate(self) -> float:
        """16000 / the extractor's total stride (50 frames/s for the usual 320)."""
        return self.sample_rate / self.stride

    def config(self) -> dict:
        """{"name": "ssl", "path", "layer", "segment_margin_s", "sha256"}."""
        return {"name": self.name, "path": str(self.path), "layer": self.layer,
                "segment_margin_s": self.segment_margin_s, "sha256": self.sha256}

    def provenance(self) -> str:
        """What the checkpoint's own hyper-parameter file says about it (model, licence, training data)."""
        m = self.meta
        return (f"{m.get('model', 'self-supervised wav2vec2-class model')} from {self.path.name}, layer "
                f"{self.layer} of {m['params'].get('encoder_num_layers')}; licence: "
                f"{m.get('licence', 'not stated in the checkpoint')}; trained on: "
                f"{m.get('trained_on', 'not stated in the checkpoint')}.")

    def batch_frames(self, signals, device=None) -> list[np.ndarray]:
        """Layer outputs per signal. Layer-norm extractors batch with lengths; group-norm extractors
        (base models: the norm spans the whole input) run one signal at a time so padding cannot leak."""
        import torch

        device = resolve_device(device)
        model = _cached_model(str(self.path), self.sha256, str(device))
        items = [self._prepare(s) for s in signals]
        groups = [[i] for i in range(len(items))] if self.group_norm else [list(range(len(items)))]
        results: list[np.ndarray | None] = [None] * len(items)
        with torch.inference_mode():
            for group in groups:
                if not group:
                    continue
                width = max(len(items[i]) for i in group)
                stack = torch.zeros(len(group), width)
                for r, i in enumerate(group):
                    stack[r, :len(items[i])] = torch.from_numpy(items[i])
                lengths = torch.tensor([len(items[i]) for i in group])
                outputs, out_lengths = model.extract_features(stack.to(device), lengths.to(device),
                                                              num_layers=self.layer)
                for r, i in enumerate(group):
                    n = int(out_lengths[r]) if out_lengths is not None else outputs[-1].shape[1]
                    results[i] = outputs[-1][r, :n].float().cpu().numpy()
        return results  # type: ignore[return-value]

    def _prepare(self, signal) -> np.ndarray:
        x = np.asarray(signal, dtype=np.float32).reshape(-1)
        if x.size == 0:
            raise WordbridgeError("cannot compute frames of an empty signal")
        if self.normalize:
            x = (x - x.mean()) / max(float(x.std()), 1e-5)
        if len(x) < self.receptive_field:
            x = np.pad(x, (0, self.receptive_field - len(x)))
        return x.astype(np.float32)


_MODELS: dict = {}  # (path, sha256, device) → model; the two most recent
_KNOWN: dict[str, Path] = {}  # sha256 → the checkpoint file this process read with that sha256


def locate_checkpoint(config: dict, root=None, near=()) -> Path:
    """The checkpoint file an ssl config or record names. An absolute path (`config()`, or a record
    written before issue 17) is taken as it is when the file is there. Otherwise the first file, with
    the recorded sha256, of: `root / path` (a project's record; a path leaving the project is refused,
    core.project.paths.inside), then by its file name under `root/frontends/` and `root`, in each of
    `near` (a store's folder and the folder above it), in each folder of $WORDBRIDGE_SSL_CHECKPOINTS,
    and the file this process already read with that sha256. None there: a one-line WordbridgeError."""
    recorded = str(config.get("path") or "").strip()
    sha = config.get("sha256")
    if not recorded:
        raise WordbridgeError("ssl front-end config has no checkpoint 'path'")
    given = Path(recorded).expanduser()
    if given.is_absolute() and (given.is_file() or not sha):
        return given
    name = PurePosixPath(recorded.replace("\\", "/")).name
    candidates = []
    if root is not None and not given.is_absolute():
        from core.project.paths import inside

        candidates.append(inside(root, recorded, "self-supervised checkpoint"))
    folders = [Path(root) / PROJECT_FOLDER, Path(root)] if root is not None else []
    folders += [Path(f) for f in near if f] + [Path(f) for f in os.environ.get(SEARCH_ENV, "").split(os.pathsep) if f]
    candidates += [folder / name for folder in folders]
    if sha in _KNOWN:
        candidates.append(_KNOWN[sha])
    different = None
    for candidate in dict.fromkeys(candidates):
        if candidate.is_file():
            if not sha or file_sha256(candidate) == sha:
                return candidate
            different = different or candidate
    short = f" (sha256 {str(sha)[:12]})" if sha else ""
    other = (f" ({different.name} there has other contents: sha256 {file_sha256(different)[:12]})"
             if different is not None else "")
    if root is not None:
        raise WordbridgeError(f"the self-supervised checkpoint {name}{short} is not in the project{other}; copy it to "
                              f"{Path(root) / PROJECT_FOLDER / name}, or add the store or space to the project again")
    where = f"beside the store ({Path(near[0])})" if near else "here"
    raise WordbridgeError(f"the self-supervised checkpoint {name}{short} is not in the project or {where}{other}; "
                          f"put it there or name its folder in ${SEARCH_ENV}")


def checkpoint_record(config: dict, root=None, near=()) -> dict:
    """What a store header or an encoder config records of an ssl front end (`config` or an earlier
    record): in a project (`root`) the checkpoint's path relative to the project root, the file
    copied to `frontends/` first when outside it (`copy_into_project`); elsewhere its file name.
    The full sha256 is kept either way."""
    path = locate_checkpoint(config, root, near)
    sha = config.get("sha256") or file_sha256(path)
    if root is None:
        return {**config, "path": path.name, "sha256": sha}
    return {**config, "path": copy_into_project(path, sha, root), "sha256": sha}


def copy_into_project(path, sha256: str, root) -> str:
    """The checkpoint's path relative to the project `root`: as it is when the file (and its
    hyper-parameter file, if it needs one) is inside the project, else a copy
    `frontends/<stem>-<sha256[:12]><suffix>` (reused when already there with that sha256). The
    copy is atomic (core.atomic.atomic_path), the free space checked first, the copy's sha256 checked after."""
    from core.atomic import atomic_path, check_free_space
    from core.project.paths import inside

    path, real_root = Path(path), Path(root).resolve()
    sidecar = _sidecar_needed(path)
    real = path.resolve()
    if real.is_relative_to(real_root) and (sidecar is None or sidecar.resolve().is_relative_to(real_root)):
        return real.relative_to(real_root).as_posix()
    short = sha256[:12]
    name = path.name if path.stem.endswith(f"-{short}") else f"{path.stem}-{short}{path.suffix}"
    relative = f"{PROJECT_FOLDER}/{name}"
    target = inside(root, relative, "self-supervised checkpoint")  # a frontends/ link out of the project: refused
    side_target = Path(f"{target}.json")
    if target.is_file() and file_sha256(target) == sha256 and (sidecar is None or side_target.is_file()):
        return relative
    needed = path.stat().st_size + (sidecar.stat().st_size if sidecar is not None else 0)
    target.parent.mkdir(parents=True, exist_ok=True)
    check_free_space(target.parent, needed, f"a copy of the self-supervised checkpoint {path.name}",
                     "free some space, then add it to the project again")
    if sidecar is not None:  # first: a weights file in place always has its hyper-parameters beside it
        with atomic_path(side_target) as tmp:
            shutil.copyfile(sidecar, tmp)
    with atomic_path(target) as tmp:
        shutil.copyfile(path, tmp)
    if file_sha256(target) != sha256:
        target.unlink(missing_ok=True)
        raise WordbridgeError(f"{path}: the checkpoint changed while it was copied into the project (sha256 "
                              f"differs from {short}); nothing was recorded")
    return relative


def _sidecar_needed(path: Path) -> Path | None:
    """The hyper-parameter file beside `path` that reading it needs (None: the file holds them)."""
    sides = [s for s in (Path(f"{path}.json"), path.with_suffix(".json")) if s.is_file()]
    if not sides:
        return None
    if path.suffix == ".safetensors":
        from core.atomic import read_safetensors_metadata

        if read_safetensors_metadata(path).get(META_KEY):
            return None
    else:
        try:
            if _read_torch(path)[1] is not None:
                return None
        except WordbridgeError:
            pass
    return sides[0]


def _remember(key, model):
    _MODELS.pop(key, None)
    _MODELS[key] = model
    while len(_MODELS) > 2:
        _MODELS.pop(next(iter(_MODELS)))
    return model


def _cached_model(path: str, sha256: str, device: str):
    if (path, sha256, device) in _MODELS:
        return _MODELS[(path, sha256, device)]
    state, meta = read_checkpoint(path)
    return _remember((path, sha256, device), build_model(state, meta, path).to(device))


def file_sha256(path) -> str:
    """The sha256 (hex) of a file, cached while its size and modification time stay the same."""
    path = Path(path)
    stat = path.stat()
    return _sha256_of(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _sha256_of(path: str, mtime_ns: int, size: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()
