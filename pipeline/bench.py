"""Measurements of the bench stage: reading the raw layouts, preparing, streaming shards, training steps, renderer.

Raw reading is what a training loop would do without shards: the real-format reader plus the per-sample work of the
prepare stage (decode full-size images, crop and resize; project poses and render heatmaps). Preparing adds encoding
and writing shards. Every rate is in samples per second; the first batch or step of each measurement is a warm-up
(worker start, caches) and is not timed.
"""

import dataclasses
import itertools
import resource
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import torch

from pipeline.aign import TrainConfig, train
from pipeline.batches import BatchStream
from pipeline.config import parse
from pipeline.datasets.celeba import iter_records
from pipeline.datasets.h36m import open_h36m
from pipeline.datasets.images import CorruptTally
from pipeline.datasets.vkitti import VKITTI1_SIZE, open_vkitti
from pipeline.prepare.celeba import PrepareCeleba, face_samples, route_main
from pipeline.prepare.h36m import PrepareH36m, sequence_samples
from pipeline.prepare.vkitti import PrepareVkitti, pair_samples
from pipeline.shards import ShardSet
from pipeline.synthetic.vkitti import write_vkitti


class _NoProgress:
    def step(self, n=1):
        pass


def raw_h36m(params: dict) -> Iterator[dict]:
    cfg = parse(PrepareH36m, params["h36m"], "h36m")
    cameras, sequences = open_h36m(cfg.root, cfg.layout, cfg.splits.inputs)
    return (sample for seq in sequences for sample in sequence_samples(seq, cameras, cfg, with_2d=True))


def raw_vkitti(params: dict) -> Iterator[dict]:
    return _vkitti_pairs(parse(PrepareVkitti, params["vkitti"], "vkitti"))


def _vkitti_pairs(cfg: PrepareVkitti) -> Iterator[dict]:
    tally = CorruptTally(1.0, "vkitti.max_corrupt_fraction")
    return (sample for world in cfg.splits.inputs for variation in cfg.variations
            for sample in pair_samples(open_vkitti(cfg.root, cfg.layout, world, variation, cfg.camera), cfg, tally,
                                       _NoProgress()))


def raw_vkitti_real_resolution(params: dict, folder: Path, frames: int = 20) -> Iterator[dict]:
    """The vkitti pairs read from one world rendered into `folder` at the real dataset's 1242x375 (the default
    stand-in is half size, and decoding cost grows with the frame size)."""
    cfg = parse(PrepareVkitti, params["vkitti"], "vkitti")
    world, variation = cfg.splits.inputs[0], cfg.variations[0]
    write_vkitti(folder, seed=0, worlds=[world], variations=[variation], frames=frames, size=VKITTI1_SIZE,
                 layout=cfg.layout)
    cfg.root, cfg.splits.inputs, cfg.variations = str(folder), [world], [variation]
    return _vkitti_pairs(cfg)


def raw_celeba(params: dict) -> Iterator[dict]:
    cfg = parse(PrepareCeleba, params["celeba"], "celeba")
    tally = CorruptTally(1.0, "celeba.max_corrupt_fraction")
    samples = face_samples(cfg, iter_records(cfg.root), route_main(cfg), tally, _NoProgress())
    return (sample for split, sample in samples if split == "inputs")


RAW_READERS: dict[str, Callable[[dict], Iterator[dict]]] = {"h36m": raw_h36m, "vkitti": raw_vkitti,
                                                            "celeba": raw_celeba}


def raw_rate(samples: Iterable[dict], limit: int) -> float:
    """Samples/s of reading `limit` samples from the raw layout."""
    samples = iter(samples)
    next(samples)
    start = time.perf_counter()
    count = sum(1 for _ in itertools.islice(samples, limit))
    return count / (time.perf_counter() - start)


def prepare_rate(samples: Iterable[dict], limit: int) -> float:
    """Samples/s of reading `limit` raw samples, encoding them and writing shards (into a temporary folder)."""
    samples = iter(samples)
    next(samples)
    with tempfile.TemporaryDirectory() as tmp, ShardSet(Path(tmp) / "shards") as shards:
        start = time.perf_counter()
        count = 0
        for sample in itertools.islice(samples, limit):
            shards.write("inputs", sample)
            count += 1
        shards.close()
        return count / (time.perf_counter() - start)


def loader_rate(urls: list[str], batch_size: int, collate, workers: int, batches: int) -> float:
    """Samples/s of the training loader (BatchStream: decoding, shuffling, collating) with `workers` workers."""
    stream = BatchStream(urls, batch_size, collate, shuffle=1000, num_workers=workers)
    next(stream)
    start = time.perf_counter()
    for _ in range(batches):
        next(stream)
    return batches * batch_size / (time.perf_counter() - start)


class RepeatedBatch:
    """A stream that yields the same batch forever: training steps timed without any data loading."""

    def __init__(self, batch: dict):
        self.batch = batch

    def __next__(self) -> dict:
        return self.batch

    def state(self) -> dict:
        return {}

    def restore(self, state: dict) -> None:
        pass


def step_rate(task, generator, discriminator, batch: dict, memory_batch: dict, cfg: TrainConfig, steps: int,
              variant: str = "aign") -> float:
    """Samples/s of full training steps (the aign variant: D update and G update) on the current device."""
    cfg = dataclasses.replace(cfg, steps=steps + 1, checkpoint_every=10 ** 9, log_every=10 ** 9)
    with tempfile.TemporaryDirectory() as tmp:
        summary = train(task, generator, discriminator, RepeatedBatch(batch), RepeatedBatch(memory_batch), cfg,
                        variant, checkpoint=Path(tmp) / "checkpoint.pt", fingerprint="bench", name="bench step")
    return summary["train_samples_per_s"]


def _leaves(prediction):
    """The prediction with every tensor detached into a leaf that requires grad (what the renderer differentiates)."""
    if isinstance(prediction, dict):
        return {k: _leaves(v) for k, v in prediction.items()}
    if isinstance(prediction, tuple):  # a NamedTuple keeps its type
        leaves = [_leaves(v) for v in prediction]
        return type(prediction)(*leaves) if hasattr(prediction, "_fields") else tuple(leaves)
    if isinstance(prediction, torch.Tensor) and prediction.is_floating_point():
        return prediction.detach().requires_grad_()
    return prediction


def renderer_seconds(task, generator, batch: dict, reps: int) -> float:
    """Seconds per call of the renderer and its reconstruction loss, forward and backward, on one batch."""
    device = next(generator.parameters()).device
    batch = {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}
    with torch.no_grad():
        prediction = task.predict(generator, batch)
    timings = []
    for _ in range(reps + 1):
        leaves = _leaves(prediction)
        _sync(device)
        start = time.perf_counter()
        task.reconstruction_loss(leaves, batch).backward()
        _sync(device)
        timings.append(time.perf_counter() - start)
    return sum(timings[1:]) / reps


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def peak_memory_mib(device: torch.device) -> float:
    """Peak GPU memory allocated on CUDA; peak resident set size of this process on the CPU."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2 ** 20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
