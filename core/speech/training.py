"""The training loop shared by every speech model: devices, bf16, checkpoints, exact resume, DDP.

A task supplies `model` (an nn.Module whose `forward(batch)` returns the loss), `plan(epoch)` (the
epoch's batch specs, deterministic in the epoch) and `prepare(spec, rng_seed)` (the batch's
tensors; all randomness comes from `rng_seed`, which is a function of the run seed, the global
step and the rank). Because data order and randomness depend only on (seed, epoch, step), a run
resumed from a checkpoint continues the same loss curve as an uninterrupted one.

Checkpoints: `ckpt-<step>.safetensors` (model weights, optimizer tensors, RNG states) and
`checkpoint.json` (step, epoch, batch within the epoch, optimizer hyper-parameters, loss
history). The JSON is written after the weights and names them, so a kill between the two
leaves the previous checkpoint valid. Nothing is pickled.

Several GPUs: launch with `torchrun --nproc_per_node=N`; every rank takes its share of each
epoch's batches and DistributedDataParallel averages the gradients (NCCL on CUDA, gloo on CPU).
Cancel with several ranks: every step all-reduces a stop flag (MAX over the ranks, on the CPU
through gloo, started before the step and read after it, so it costs no GPU sync), so a Cancel on
any rank stops every rank after the same step; rank 0 writes the checkpoint and every rank raises
`Cancelled`. During training SIGINT (Ctrl-C; torchrun forwards it to every worker) sets the flag
instead of interrupting a step; a second SIGINT interrupts at once.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.atomic import load_safetensors, save_safetensors, write_json
from core.errors import Cancelled, InputFileError, WordbridgeError
from core.progress import Progress, ensure, sigint_cancels
from core.speech.batching import shard_plan

CHECKPOINT_JSON = "checkpoint.json"


@dataclass
class LoopSettings:
    """How to train: epochs, optimiser, device, precision, checkpointing."""

    epochs: int = 1
    optimizer: str = "sgd"  # sgd | adam
    lr: float = 1e-3
    momentum: float = 0.0
    grad_clip: float = 0.0  # 0 = off
    device: str = "auto"
    precision: str = "bf16"  # bf16 autocast on CUDA only
    seed: int = 0
    checkpoint_every: int = 1000
    log_every: int = 50
    num_workers: int = 0
    stop_after_steps: int | None = None  # stop (with a checkpoint) after this many steps: tests, time limits
    checkpoints: bool = True  # False: never read or write checkpoints (benchmarks)
    name: str = "train"


@dataclass
class TrainResult:
    """What a finished (or stopped) training run reports."""

    steps: int
    epochs_done: int
    finished: bool
    history: list = field(default_factory=list)  # [step, epoch, mean loss since the last entry]
    seconds: float = 0.0
    samples: int = 0  # batches × batch size, this process, this session

    @property
    def final_loss(self) -> float | None:
        return self.history[-1][2] if self.history else None


@dataclass
class DistContext:
    """This process's place among the training processes (world 1 without torchrun)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def distributed_context(device: str = "auto") -> DistContext:
    """Join the torchrun process group when WORLD_SIZE > 1 (once per process)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistContext()
    import torch.distributed as dist

    local = int(os.environ.get("LOCAL_RANK", "0"))
    if not dist.is_initialized():
        use_cuda = resolve_device(device, local).type == "cuda"
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    return DistContext(dist.get_rank(), dist.get_world_size(), local)


def barrier(ctx: DistContext) -> None:
    """Wait for every rank (no-op without a process group)."""
    if ctx.world > 1:
        import torch.distributed as dist

        dist.barrier()


def resolve_device(device: str = "auto", local_rank: int = 0) -> torch.device:
    """auto → the rank's GPU when CUDA is available, else the CPU; cuda without a GPU is an error."""
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise WordbridgeError("device cuda requested but no CUDA GPU is available (use --device cpu)")
        return torch.device(f"cuda:{local_rank}") if device == "cuda" else torch.device(device)
    if device != "cpu":
        raise WordbridgeError(f"unknown device {device!r} (auto, cpu, cuda, cuda:N)")
    return torch.device("cpu")


def step_seed(seed: int, step: int, rank: int) -> int:
    """The randomness of one batch: the same for the same (seed, step, rank), resumed or not."""
    return int(np.random.SeedSequence([seed, step, rank]).generate_state(1, np.uint64)[0] >> 1)


def make_optimizer(params, settings: LoopSettings) -> torch.optim.Optimizer:
    """SGD (the paper's choice) or Adam."""
    if settings.optimizer == "sgd":
        return torch.optim.SGD(params, lr=settings.lr, momentum=settings.momentum)
    if settings.optimizer == "adam":
        return torch.optim.Adam(params, lr=settings.lr)
    raise WordbridgeError(f"unknown optimizer {settings.optimizer!r} (sgd, adam)")


def train(task, settings: LoopSettings, ckpt_dir: str | Path, progress: Progress | None = None,
          ctx: DistContext | None = None, log=None) -> TrainResult:
    """Train `task.model` for `settings.epochs`, resuming from `ckpt_dir` when it holds a checkpoint.

    `log` (a callable taking one line; default `progress.log`) receives the loop's lines ("resumed
    from step N", the CPU estimate, a cancel's checkpoint): a run folder passes its `RunLog`, so
    they are in its log.txt as well as on the terminal."""
    progress = ensure(progress)
    log = log or progress.log
    ctx = ctx or DistContext()
    ckpt_dir = Path(ckpt_dir)
    device = resolve_device(settings.device, ctx.local_rank)
    model: nn.Module = task.model.to(device)
    optimizer = make_optimizer(model.parameters(), settings)
    state = load_checkpoint(ckpt_dir, model, optimizer) if settings.checkpoints else {}
    if state.get("finished"):
        return TrainResult(state["step"], state["epoch"], True, state["history"])
    step, epoch, batch_in_epoch = state.get("step", 0), state.get("epoch", 0), state.get("batch", 0)
    history = state.get("history", [])
    if step:
        log(f"{settings.name}: resumed from step {step} (epoch {epoch + 1}, checkpoint {ckpt_dir})")
    net = model
    if ctx.world > 1:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    use_bf16 = settings.precision == "bf16" and device.type == "cuda"
    progress.set_stage(settings.name)
    started, samples = time.time(), 0
    first_step = step  # the first step this process takes: its time gives the CPU estimate
    # the loss sum since the last log entry travels in the checkpoint, so the curve continues exactly
    running = torch.tensor(state.get("running_sum", 0.0), dtype=torch.float32, device=device)
    running_n = state.get("running_n", 0)
    per_epoch = None

    def save(finished: bool = False):
        if not settings.checkpoints:
            return
        running_sum = _mean_over_ranks(running, ctx)  # every rank resumes with the ranks' mean
        if ctx.is_main:
            save_checkpoint(ckpt_dir, model, optimizer, {
                "name": settings.name, "step": step, "epoch": epoch, "batch": batch_in_epoch,
                "finished": finished, "history": history, "world": ctx.world,
                "running_sum": running_sum, "running_n": running_n})
        barrier(ctx)

    with _StopFlag(ctx, progress) as stop_flag:
        net.train()
        while epoch < settings.epochs:
            plan = shard_plan(task.plan(epoch), ctx.rank, ctx.world)
            per_epoch = len(plan)
            total = per_epoch * settings.epochs
            for spec, batch in _batches(task, plan, batch_in_epoch, step, settings, ctx, device):
                if ctx.world == 1:
                    try:
                        progress.check()  # between steps: the state is whole, so Cancel keeps every step done
                    except Cancelled:
                        if step > state.get("step", 0):
                            save()
                            log(f"{settings.name}: cancelled; checkpoint at step {step} (rerun to resume)")
                        raise
                else:
                    stop_flag.start()  # this rank's Cancel, all-reduced while the step runs
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
                    loss = net(batch)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if settings.grad_clip > 0:
                    nn.utils.clip_grad_norm_(model.parameters(), settings.grad_clip)
                optimizer.step()
                step += 1
                batch_in_epoch += 1
                samples += _spec_size(spec)
                running += loss.detach().float()
                running_n += 1
                if step == first_step + 1 and device.type == "cpu" and ctx.is_main:
                    log(estimate_line(settings.name, time.time() - started, total - step))
                stopping = settings.stop_after_steps is not None and step >= settings.stop_after_steps
                if step % settings.log_every == 0 or batch_in_epoch == per_epoch:
                    mean = _mean_over_ranks(running / running_n, ctx)
                    if not math.isfinite(mean):
                        raise WordbridgeError(f"{settings.name}: loss became {mean} at step {step} "
                                              "(lower the learning rate or use --precision fp32)")
                    history.append([step, epoch, mean])
                    running, running_n = torch.zeros((), device=device), 0
                    progress.update(step, total, loss=mean, epoch=epoch + 1)
                if ctx.world > 1 and stop_flag.agreed():  # the same answer on every rank
                    save()
                    log(f"{settings.name}: cancelled; checkpoint at step {step} (rerun to resume)")
                    raise Cancelled()
                if step % settings.checkpoint_every == 0:
                    save()
                if stopping:
                    save()
                    return TrainResult(step, epoch, False, history, time.time() - started, samples)
            epoch += 1
            batch_in_epoch = 0
            save(finished=epoch >= settings.epochs)
    return TrainResult(step, epoch, True, history, time.time() - started, samples)


class _StopFlag:
    """Whether any rank was cancelled, agreed on by all ranks after every step (several ranks only).

    `start()` (before a step) reads this rank's Cancel and starts an all-reduce (MAX) of it;
    `agreed()` (after the step) waits for the result, which is the same on every rank. The flag
    travels on the CPU through gloo (a gloo group beside an NCCL one), so it never syncs the GPU.
    While it is open in the main thread, SIGINT sets this rank's Cancel instead of raising
    KeyboardInterrupt mid-step (a second SIGINT still does; `core.progress.sigint_cancels`); the
    previous handler comes back after."""

    def __init__(self, ctx: DistContext, progress: Progress):
        self.ctx, self.progress = ctx, progress
        self.group = self.work = self.flag = None
        self.interrupts = contextlib.ExitStack()

    def __enter__(self):
        if self.ctx.world <= 1:
            return self
        import torch.distributed as dist

        if dist.get_backend() != "gloo":
            self.group = dist.new_group(backend="gloo")  # every rank calls train(), so every rank gets here
        self.interrupts.enter_context(sigint_cancels(
            self.progress, f"interrupted (rank {self.ctx.rank}): stopping every rank after this step with a "
                           "checkpoint (Ctrl-C again to stop at once)"))
        return self

    def __exit__(self, *exc):
        self.interrupts.close()  # the previous SIGINT handler comes back
        if self.work is not None:  # an error mid-step: don't wait on ranks that may be gone
            self.work = self.group = None
        if self.group is not None:
            import torch.distributed as dist

            with contextlib.suppress(Exception):
                dist.destroy_process_group(self.group)
            self.group = None
        return False

    def start(self) -> None:
        import torch.distributed as dist

        try:
            self.progress.check()
            mine = 0
        except Cancelled:
            mine = 1
        self.flag = torch.tensor([mine], dtype=torch.int32)
        self.work = dist.all_reduce(self.flag, op=dist.ReduceOp.MAX, group=self.group, async_op=True)

    def agreed(self) -> bool:
        if self.work is None:
            return False
        self.work.wait()
        self.work = None
        return bool(self.flag.item())


def estimate_line(name: str, seconds_per_step: float, steps_left: int) -> str:
    """The up-front estimate a CPU run logs after its first step (a first step includes start-up
    costs, so it errs long)."""
    total = seconds_per_step * steps_left
    took = f"about {total / 60:.0f} min" if total >= 90 else f"about {total:.0f} s"
    return (f"{name}: {took} more on this machine ({steps_left} steps × {seconds_per_step:.1f} s, "
            "the time of the first step)")


def _batches(task, plan: list, first: int, step: int, settings: LoopSettings, ctx: DistContext, device):
    """Yield (spec, batch) from `plan[first:]`, prepared here or in DataLoader workers."""
    todo = plan[first:]
    if settings.num_workers <= 0:
        for k, spec in enumerate(todo):
            yield spec, task.prepare(spec, step_seed(settings.seed, step + k, ctx.rank))
        return
    from torch.utils.data import DataLoader

    seeds = [step_seed(settings.seed, step + k, ctx.rank) for k in range(len(todo))]
    loader = DataLoader(_PreparedBatches(task, todo, seeds), batch_size=None, shuffle=False,
                        num_workers=settings.num_workers, pin_memory=device.type == "cuda")
    for spec, batch in zip(todo, loader):
        yield spec, {k: v.to(device, non_blocking=True) if torch.is_tensor(v) and k not in _HOST_KEYS else v
                     for k, v in batch.items()}


def _spec_size(spec) -> int:
    """Samples in a batch spec: an index array, or an (epoch, start, end) slice."""
    if isinstance(spec, np.ndarray):
        return len(spec)
    return int(spec[2] - spec[1]) if isinstance(spec, tuple) and len(spec) == 3 else 1


# tensors that must stay on the host (lengths for sequence packing)
_HOST_KEYS = ("src_len", "len1", "len2")


class _PreparedBatches(torch.utils.data.Dataset):
    def __init__(self, task, specs, seeds):
        self.task, self.specs, self.seeds = task, specs, seeds

    def __len__(self):
        return len(self.specs)

    def __getitem__(self, k):
        return self.task.prepare(self.specs[k], self.seeds[k])


def _mean_over_ranks(value: torch.Tensor, ctx: DistContext) -> float:
    if ctx.world > 1:
        import torch.distributed as dist

        value = value.clone()
        dist.all_reduce(value)
        value /= ctx.world
    return float(value.item())


def save_checkpoint(ckpt_dir: Path, model: nn.Module, optimizer: torch.optim.Optimizer, info: dict) -> None:
    """Write weights + optimizer tensors + RNG states (safetensors), then the JSON that names them."""
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    tensors = {f"model/{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    opt = optimizer.state_dict()
    opt_plain: dict = {}
    for pid, entries in opt["state"].items():
        for key, value in entries.items():
            if torch.is_tensor(value):
                tensors[f"optim/{pid}/{key}"] = value.detach().cpu().contiguous()
            else:
                opt_plain.setdefault(str(pid), {})[key] = value
    tensors["rng/torch"] = torch.get_rng_state()
    if torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng/cuda{i}"] = s
    weights = f"ckpt-{info['step']:09d}.safetensors"
    save_safetensors(ckpt_dir / weights, tensors)  # a full disk or ulimit -f: one line
    write_json(ckpt_dir / CHECKPOINT_JSON, {**info, "weights": weights,
                                            "optimizer": {"param_groups": opt["param_groups"],
                                                          "state_plain": opt_plain}})
    for old in ckpt_dir.glob("ckpt-*.safetensors"):
        if old.name != weights:
            old.unlink(missing_ok=True)


def checkpoint_finished(ckpt_dir: Path) -> bool:
    """True when `ckpt_dir` holds the checkpoint of a finished run (`train` would only reload it)."""
    path = Path(ckpt_dir) / CHECKPOINT_JSON
    try:
        return bool(json.loads(path.read_text(encoding="utf-8")).get("finished"))
    except (OSError, ValueError, AttributeError):
        return False  # none yet, or damaged: `train` reports a damaged one


def load_checkpoint(ckpt_dir: Path, model: nn.Module, optimizer: torch.optim.Optimizer | None) -> dict:
    """Restore model, optimizer and RNG states from `ckpt_dir`; {} when there is no checkpoint."""
    path = Path(ckpt_dir) / CHECKPOINT_JSON
    if not path.is_file():
        return {}
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        tensors = load_safetensors(Path(ckpt_dir) / info["weights"], torch=True)
    except InputFileError as exc:
        raise WordbridgeError(f"{exc}; delete the folder {ckpt_dir} to start over") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise WordbridgeError(f"{path}: damaged checkpoint ({exc}); delete the folder to start over") from None
    device = next(model.parameters()).device
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model/")})
    if optimizer is not None:
        state: dict = {}
        for k, v in tensors.items():
            if k.startswith("optim/"):
                _, pid, key = k.split("/", 2)
                state.setdefault(int(pid), {})[key] = v.to(device) if key != "step" else v
        for pid, entries in info["optimizer"]["state_plain"].items():
            state.setdefault(int(pid), {}).update(entries)
        optimizer.load_state_dict({"state": state, "param_groups": info["optimizer"]["param_groups"]})
    torch.set_rng_state(tensors["rng/torch"])
    if torch.cuda.is_available():
        cuda_states = [tensors[k] for k in sorted(tensors) if k.startswith("rng/cuda")]
        if len(cuda_states) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(cuda_states)
    return info


def save_model(model: nn.Module, path: str | Path, architecture: dict) -> None:
    """Model weights as safetensors with the architecture in the file's metadata."""
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_safetensors(path, tensors, metadata={"architecture": json.dumps(architecture)})
