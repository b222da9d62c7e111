"""The one AIGN training loop, shared by every task and variant.

A task adapts a dataset to the loop: it predicts latent factors with the generator, renders them back to compare
with the input (the reconstruction loss), compares them with paired ground truth (the supervised baseline only) and
turns predictions and memory samples into discriminator inputs. The variant picks the generator's loss:

    supervised:  w_sup * L_sup                       (paired ground truth: the upper bound)
    recon_only:  w_rec * L_rec                       (renderer only)
    aign:        w_rec * L_rec + w_adv * L_adv(D)    (renderer + adversarial prior from the unpaired memory)

The loop owns seeding and determinism, device choice (CUDA when present: bf16 autocast, channels-last), data
parallelism over torchrun's processes (DDP around the generator and the discriminator; rank 0 alone writes),
checkpoints with an automatic resume that reaches the same final weights as an uninterrupted run (and resumes under
another number of processes), the learning-rate schedule (linear warm-up, then cosine or linear decay), gradient-norm
clipping, a ramp of the adversarial weight, a NaN guard that names the module where a non-finite value first
appeared, dvclive logging of every loss and gradient norm, and a rich progress bar.
"""

import functools
import math
import os
import pickle
import random
import sys
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import torch
from rich.console import Console

from pipeline import distributed
from pipeline.batches import BatchStream
from pipeline.errors import ParamsError, UserError
from pipeline.gan import GanLoss, discriminator_loss, generator_loss, gradient_penalty
from pipeline.nan_guard import locate_non_finite
from pipeline.progress import StageProgress

Variant = Literal["supervised", "recon_only", "aign"]
VARIANTS = ("supervised", "recon_only", "aign")


@dataclass
class TrainConfig:
    steps: int = 1000
    batch_size: int = 64
    lr_g: float = 1e-3
    lr_d: float = 1e-4
    betas: tuple[float, float] = (0.5, 0.999)
    betas_d: tuple[float, float] | None = None  # the discriminator's Adam betas (None: betas)
    gan_loss: GanLoss = "lsgan"
    gp_weight: float = 10.0  # WGAN-GP only
    d_steps: int = 1  # discriminator updates per generator update
    w_rec: float = 1.0
    w_adv: float = 0.01
    w_sup: float = 1.0
    adv_warmup_steps: int = 0  # aign: w_adv ramps linearly from 0 over these first steps (D trains throughout)
    warmup_steps: int = 0  # learning rates ramp linearly from 0 over these first steps
    lr_decay: Literal["none", "cosine", "linear"] = "none"  # then decay to lr_final x the learning rate
    lr_final: float = 1.0
    clip_grad_norm: float = 0.0  # clip the global gradient norm of G and of D to this (0: no clipping)
    ema_decay: float = 0.0  # the trained generator is the exponential moving average of its weights (0: the last)
    checkpoint_every: int = 200
    log_every: int = 10
    seed: int = 0
    shuffle: int = 2000  # sample shuffle buffer
    num_workers: int = 0  # DataLoader workers per stream

    def check(self, where: str) -> None:
        for name in ("steps", "batch_size", "d_steps", "checkpoint_every", "log_every"):
            if getattr(self, name) < 1:
                raise ParamsError(f"param {where}.{name}: found {getattr(self, name)}, expected a positive integer")
        for name in ("lr_g", "lr_d"):
            if getattr(self, name) <= 0:
                raise ParamsError(f"param {where}.{name}: found {getattr(self, name)}, expected a positive number")
        for name in ("adv_warmup_steps", "warmup_steps", "clip_grad_norm"):
            if getattr(self, name) < 0:
                raise ParamsError(f"param {where}.{name}: found {getattr(self, name)}, expected 0 or more")
        if not 0 <= self.ema_decay < 1:
            raise ParamsError(f"param {where}.ema_decay: found {self.ema_decay}, expected a number in [0, 1)")
        if not 0 <= self.lr_final <= 1:
            raise ParamsError(f"param {where}.lr_final: found {self.lr_final}, expected a fraction in [0, 1]")
        if self.warmup_steps >= self.steps:
            raise ParamsError(f"param {where}.warmup_steps: found {self.warmup_steps}, expected fewer than "
                              f"steps ({self.steps})")

    def lr_factor(self, step: int) -> float:
        """Multiplier of the learning rates at `step` (0-based): linear warm-up, then the decay."""
        if step < self.warmup_steps:
            return (step + 1) / self.warmup_steps
        progress = (step - self.warmup_steps) / max(1, self.steps - 1 - self.warmup_steps)  # 0 -> 1
        if self.lr_decay == "cosine":
            return self.lr_final + (1 - self.lr_final) * 0.5 * (1 + math.cos(math.pi * progress))
        if self.lr_decay == "linear":
            return 1 - (1 - self.lr_final) * progress
        return 1.0

    def adv_weight(self, step: int) -> float:
        """The adversarial weight at `step`: w_adv, ramped in over adv_warmup_steps."""
        return self.w_adv * min(1.0, step / self.adv_warmup_steps) if self.adv_warmup_steps else self.w_adv


class Task(Protocol):
    """What the loop asks of a task (built by its plug-in, pipeline.tasks.plugin). `to(device)` moves the task's
    constant tensors (module buffers) once, before the first step. `channels_last`: its networks convolve images,
    so they and the batches' 4-D tensors run in channels-last layout where `runtime.channels_last` asks for it."""

    channels_last: bool

    def to(self, device: torch.device) -> "Task": ...
    def predict(self, generator: torch.nn.Module, batch: dict) -> Any: ...
    def reconstruction_loss(self, prediction: Any, batch: dict) -> torch.Tensor: ...
    def supervised_loss(self, prediction: Any, batch: dict) -> torch.Tensor: ...
    def fake(self, prediction: Any, batch: dict) -> torch.Tensor: ...
    def real(self, memory_batch: dict) -> torch.Tensor: ...


class TrainingDiverged(UserError):
    """A loss became NaN or infinite."""


def seed_everything(seed: int) -> None:
    """Seed every RNG and ask for deterministic kernels: same commit + params = same weights on the CPU."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")


def _to_device(batch: dict, device: torch.device, channels_last: bool) -> dict:
    """Copy a batch to `device` (asynchronously from pinned memory); images in channels-last layout if asked."""
    out = {}
    for key, value in batch.items():
        if isinstance(value, torch.Tensor):
            value = value.to(device, non_blocking=True)
            if channels_last and value.dim() == 4:
                value = value.contiguous(memory_format=torch.channels_last)
        out[key] = value
    return out


def _prepare(module: torch.nn.Module, world: distributed.World, device: torch.device,
             runtime: distributed.Runtime, channels_last: bool, sync_buffers: bool) -> torch.nn.Module:
    """Move `module` to `device`; return what the loop calls: the module, wrapped in DDP and compiled if asked."""
    module.to(device)
    if channels_last:
        module.to(memory_format=torch.channels_last)
    wrapped = distributed.wrap(module, world, device, sync_buffers=sync_buffers)
    return torch.compile(wrapped) if runtime.compile else wrapped


def _save_checkpoint(path: Path, state: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def _resumable(checkpoint: Path, fingerprint: dict[str, str]) -> dict | None:
    """The checkpoint's state if it was written by a run with this fingerprint; otherwise None, and one line that
    says what differs. Loaded with `weights_only`: a checkpoint holds tensors and plain values, never code."""
    try:
        state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise UserError(f"{checkpoint}: holds more than tensors and plain values, refused unread "
                        f"({str(err).splitlines()[0]}); delete it to start over") from None
    written = state.get("fingerprint")
    written = written if isinstance(written, dict) else {}
    differing = [part for part in fingerprint if written.get(part) != fingerprint[part]]
    if not differing:
        return state
    print(f"{checkpoint}: written by a run with other {' and '.join(differing)}; training starts over",
          file=sys.stderr)
    return None


def train(task: Task, generator: torch.nn.Module, discriminator: torch.nn.Module | None, inputs: BatchStream,
          memory: BatchStream | None, cfg: TrainConfig, variant: Variant, *, checkpoint: Path,
          fingerprint: str | dict[str, str], log_dir: Path | None = None, name: str = "train",
          world: distributed.World = distributed.SINGLE,
          device: torch.device | None = None, runtime: distributed.Runtime | None = None) -> dict:
    """Train `generator` (and `discriminator` for aign) for `cfg.steps` steps; returns a summary of the run.

    `checkpoint` is written every `cfg.checkpoint_every` steps; if it exists with the same `fingerprint` (a digest of
    everything that determines the run, or digests by name, e.g. {"params and data": ..., "code": ...}) training
    resumes from it, otherwise it says which part differs and starts over. In a distributed run
    (`world`, from `distributed.start`) the streams hold this process's share of each global batch of
    `cfg.batch_size` samples; rank 0 reads and writes the checkpoint and the logs.
    """
    if variant not in VARIANTS:
        raise ParamsError(f"variant {variant!r}: expected one of {', '.join(VARIANTS)}")
    adversarial = variant == "aign"
    if adversarial and (discriminator is None or memory is None):
        raise ValueError("the aign variant needs a discriminator and a memory stream")
    if world.distributed and adversarial and cfg.gan_loss == "wgan-gp":
        raise ParamsError("gan_loss wgan-gp: its gradient penalty needs double backward, which DistributedDataParallel "
                          "does not support; use lsgan or nonsaturating with runtime.processes > 1")
    device = device or torch.device("cuda" if torch.cuda.is_available() else "cpu")
    runtime = runtime or distributed.Runtime()
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else nullcontext()
    channels_last = runtime.channels_last and task.channels_last
    task.to(device)
    g_run = _prepare(generator, world, device, runtime, channels_last, sync_buffers=True)
    opt_g = torch.optim.Adam(generator.parameters(), lr=cfg.lr_g, betas=cfg.betas)
    d_run = opt_d = None
    if adversarial:
        d_run = _prepare(discriminator, world, device, runtime, channels_last, sync_buffers=False)
        opt_d = torch.optim.Adam(discriminator.parameters(), lr=cfg.lr_d, betas=cfg.betas_d or cfg.betas)
    gp_rng = torch.Generator(device=device).manual_seed(cfg.seed + 1)
    average = WeightAverage(generator, cfg.ema_decay) if cfg.ema_decay > 0 else None

    start = 0
    state = None
    if world.main and checkpoint.is_file():
        state = _resumable(checkpoint, fingerprint if isinstance(fingerprint, dict) else {"settings": fingerprint})
    if world.distributed:  # rank 0's checkpoint, whatever the other nodes' disks hold
        shared = [state]
        torch.distributed.broadcast_object_list(shared, src=0)
        state = shared[0]
    if state is not None:
        generator.load_state_dict(state["generator"])
        opt_g.load_state_dict(state["opt_g"])
        if adversarial:
            discriminator.load_state_dict(state["discriminator"])
            opt_d.load_state_dict(state["opt_d"])
            memory.restore(state["memory"])
        inputs.restore(state["inputs"])
        if average is not None:
            average.load_state_dict(state["average"])
        torch.set_rng_state(state["rng"])
        gp_rng.set_state(state["gp_rng"])
        start = state["step"]
        if world.main:
            print(f"{name}: resuming from step {start} ({checkpoint})")

    live = None
    if log_dir is not None and world.main:
        from dvclive import Live  # imported here: dvclive is slow to import and only training logs

        live = Live(str(log_dir), resume=start > 0, save_dvc_exp=False, dvcyaml=None, report=None)
        live.step = start // cfg.log_every  # dvclive counts logged steps; steps logged after the checkpoint are redone

    def d_loss(d: torch.nn.Module, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        with autocast:
            loss = discriminator_loss(cfg.gan_loss, d(real).float(), d(fake).float())
        if cfg.gan_loss == "wgan-gp":
            loss = loss + cfg.gp_weight * gradient_penalty(d, real, fake, gp_rng)
        return loss

    def g_loss(g: torch.nn.Module, d: torch.nn.Module | None, batch: dict, step: int, prediction=None):
        with autocast:
            if prediction is None:
                prediction = task.predict(g, batch)
            if variant == "supervised":
                terms = {"loss_sup": task.supervised_loss(prediction, batch)}
                weights = {"loss_sup": cfg.w_sup}
            else:
                terms = {"loss_rec": task.reconstruction_loss(prediction, batch)}
                weights = {"loss_rec": cfg.w_rec}
                if adversarial:
                    terms["loss_adv"] = generator_loss(cfg.gan_loss, d(task.fake(prediction, batch)).float())
                    weights["loss_adv"] = cfg.adv_weight(step)
            return sum(weights[k] * v.float() for k, v in terms.items()), terms

    generator.train()
    if adversarial:
        discriminator.train()
    models = {"generator": generator} | ({"discriminator": discriminator} if adversarial else {})
    losses: dict[str, float] = {}
    timed_samples, timed_seconds, waited_seconds = 0, 0.0, 0.0
    console = None if world.main else Console(quiet=True)
    with StageProgress(name, cfg.steps, console) as progress:
        progress.step(start)
        for step in range(start, cfg.steps):
            tick = time.perf_counter()
            batch = _to_device(next(inputs), device, channels_last)
            waited = time.perf_counter() - tick
            _set_lr(opt_g, cfg.lr_g * cfg.lr_factor(step))
            logs = {}
            with autocast:  # G does not change during D's updates: one forward serves D's updates and G's loss
                prediction = task.predict(g_run, batch)
            if adversarial:
                _set_lr(opt_d, cfg.lr_d * cfg.lr_factor(step))
                with autocast:
                    fake = task.fake(prediction, batch).detach().float()
                for _ in range(cfg.d_steps):  # each D update sees a fresh memory batch
                    fetch = time.perf_counter()
                    real = task.real(_to_device(next(memory), device, channels_last))
                    waited += time.perf_counter() - fetch
                    loss_d = d_loss(d_run, real, fake)
                    opt_d.zero_grad(set_to_none=True)
                    logs["grad_d"] = _backward("loss_d", loss_d, step, discriminator, cfg.clip_grad_norm,
                                               {"discriminator": discriminator},
                                               functools.partial(d_loss, discriminator, real, fake))
                    opt_d.step()
                logs["loss_d"] = loss_d.item()

            loss_g, terms = g_loss(g_run, d_run, batch, step, prediction)
            opt_g.zero_grad(set_to_none=True)
            logs["grad_g"] = _backward("loss_g", loss_g, step, generator, cfg.clip_grad_norm, models,
                                       lambda: g_loss(generator, discriminator, batch, step)[0])  # noqa: B023
            opt_g.step()
            if average is not None:
                average.update(generator, step)
            logs |= {"loss_g": loss_g.item()} | {k: v.item() for k, v in terms.items()}

            if (step + 1) % cfg.log_every == 0 or step + 1 == cfg.steps:
                logs = distributed.mean_over_ranks(logs, device)  # the global batch's losses, not rank 0's share
            losses = logs
            if step > start:  # the first step of a run warms up caches and workers
                timed_samples += cfg.batch_size
                timed_seconds += time.perf_counter() - tick
                waited_seconds += waited
            progress.advance(cfg.batch_size)
            progress.step()
            if live is not None and (step + 1) % cfg.log_every == 0:
                for key, value in logs.items():
                    live.log_metric(f"train/{key}", value)
                live.next_step()
            if world.main and ((step + 1) % cfg.checkpoint_every == 0 or step + 1 == cfg.steps):
                _save_checkpoint(checkpoint, {
                    "fingerprint": fingerprint if isinstance(fingerprint, dict) else {"settings": fingerprint},
                    "step": step + 1,
                    "generator": generator.state_dict(), "opt_g": opt_g.state_dict(),
                    "discriminator": discriminator.state_dict() if adversarial else None,
                    "opt_d": opt_d.state_dict() if adversarial else None,
                    "inputs": inputs.state(), "memory": memory.state() if adversarial else None,
                    "average": average.state_dict() if average is not None else None,
                    "rng": torch.get_rng_state(), "gp_rng": gp_rng.get_state(),
                })
    if live is not None:
        live.end()
    if average is not None:
        generator.load_state_dict(average.state_dict())
    return {
        "steps": cfg.steps,
        "device": device.type,
        "processes": world.size,
        "train_samples_per_s": round(timed_samples / timed_seconds, 1) if timed_seconds else None,
        "data_wait_share": round(waited_seconds / timed_seconds, 4) if timed_seconds else None,
        "final": {k: round(v, 6) for k, v in losses.items()},
    }


class WeightAverage:
    """Exponential moving average of a model's weights and buffers: adversarial training oscillates around a solution,
    its average settles near it. The decay grows as (1 + step) / (10 + step) towards `decay`, so the first steps'
    weights do not linger."""

    def __init__(self, model: torch.nn.Module, decay: float):
        self.decay = decay
        self.tensors = {k: v.detach().clone() for k, v in model.state_dict().items()}

    @torch.no_grad()
    def update(self, model: torch.nn.Module, step: int) -> None:
        decay = min(self.decay, (1 + step) / (10 + step))
        for key, value in model.state_dict().items():
            if value.is_floating_point():
                self.tensors[key].lerp_(value, 1 - decay)
            else:
                self.tensors[key].copy_(value)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return self.tensors

    def load_state_dict(self, tensors: dict[str, torch.Tensor]) -> None:
        for key, value in tensors.items():
            self.tensors[key].copy_(value)


def _set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr


def _backward(name: str, loss: torch.Tensor, step: int, model: torch.nn.Module, clip: float,
              models: dict[str, torch.nn.Module], rerun) -> float:
    """Backpropagate `loss` into `model`, clip its gradient norm to `clip` (0: no clipping) and return the norm before
    clipping. A non-finite loss or gradient stops training with a message naming where it first arose (found by
    running `rerun` again with hooks on `models`)."""
    if not torch.isfinite(loss).all():
        raise TrainingDiverged(f"{name} became {loss.item()} at step {step + 1} "
                               f"({locate_non_finite(models, rerun)}); training diverged: lower the learning rates "
                               "or loss weights, or set clip_grad_norm, in params.yaml")
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), clip if clip > 0 else math.inf)
    if not torch.isfinite(norm):
        raise TrainingDiverged(f"the gradient of {name} became {norm.item()} at step {step + 1} "
                               f"({locate_non_finite(models, rerun)}); training diverged: lower the learning rates "
                               "or loss weights in params.yaml")
    return norm.item()
