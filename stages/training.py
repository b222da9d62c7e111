"""What the train_<task> stages share: streams from shards, resumable and distributed training, atomic outputs."""

import dataclasses
import hashlib
import json
import shutil
from pathlib import Path

import torch

from pipeline import distributed
from pipeline.aign import TrainConfig, train
from pipeline.atomic import atomic_outputs, write_json
from pipeline.batches import BatchStream
from pipeline.errors import ParamsError
from pipeline.provenance import code_digest
from pipeline.shards import read_manifest, split_urls
from stages.common import load_params

CHECKPOINTS = Path("data/checkpoints")


def add_seed_option(parser) -> None:
    parser.add_argument("--seed", type=int, help="train with this seed instead of the params' (the seed study)")


def seeded(cfg: TrainConfig, experiment: str, seed: int | None) -> tuple[TrainConfig, str]:
    """`cfg` with `seed`, and the experiment's name: `<experiment>-s<seed>` when the seed is not the params' own, so
    that its scratch checkpoints are its own."""
    if seed is None or seed == cfg.seed:
        return cfg, experiment
    return dataclasses.replace(cfg, seed=seed), f"{experiment}-s{seed}"


def fingerprint(*parts) -> str:
    """Digest of everything that determines a run (params, variant, input files)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def run_training(experiment: str, variant: str, task, generator, discriminator, *, stage: str, shards: Path,
                 memory_shards: Path, collate_inputs, collate_memory, cfg: TrainConfig, determined_by: list,
                 model_info: dict, outputs: tuple[Path, Path, Path]) -> None:
    """Train, then write the generator and `model_info` (model dir), the run summary (metrics json) and the
    dvclive logs. Checkpoints and logs live in data/checkpoints/<experiment>/ until the run succeeds, so an
    interrupted run resumes when everything in `determined_by` and the code of module `stage` (the stage's import
    closure) are unchanged (under any number of processes).

    The params section `runtime` says how: with `processes` > 1 this stage relaunches itself under torchrun and each
    process trains on its share of every global batch of `cfg.batch_size`; rank 0 alone writes.
    """
    runtime = load_params("runtime", distributed.Runtime)
    distributed.relaunch_under_torchrun(runtime)
    world, device = distributed.start()
    if cfg.batch_size % world.size:
        raise ParamsError(f"param batch_size: {cfg.batch_size} does not split evenly over {world.size} processes; "
                          "make it a multiple of the number of processes")
    batch = cfg.batch_size // world.size
    inputs = BatchStream(split_urls(shards, "inputs", runtime.shard_url), batch, collate_inputs, shuffle=cfg.shuffle,
                         seed=cfg.seed, num_workers=cfg.num_workers)
    memory = BatchStream(split_urls(memory_shards, "memory", runtime.shard_url), batch, collate_memory,
                         shuffle=cfg.shuffle, seed=cfg.seed + 10_000, num_workers=cfg.num_workers)
    scratch = CHECKPOINTS / experiment
    digest = {"params and data": fingerprint(variant, cfg, *determined_by, read_manifest(shards)["splits"],
                                             read_manifest(memory_shards)["splits"]),
              "code": code_digest(stage)}
    summary = train(task, generator, discriminator, inputs, memory, cfg, variant,
                    checkpoint=scratch / "checkpoint.pt", fingerprint=digest, log_dir=scratch / "live",
                    name=f"train_{experiment}", world=world, device=device, runtime=runtime)
    distributed.stop()
    if not world.main:
        return
    with atomic_outputs(*outputs) as (model_dir, metrics, live):
        model_dir.mkdir()
        torch.save(generator.state_dict(), model_dir / "generator.pt")
        write_json(model_dir / "model.json", {"variant": variant, "log_every": cfg.log_every, **model_info})
        write_json(metrics, {"experiment": experiment, **summary})
        shutil.copytree(scratch / "live", live)
    shutil.rmtree(scratch)
    print(f"train_{experiment}: {summary['steps']} steps on {summary['processes']} x {summary['device']}, "
          f"{summary['train_samples_per_s']} samples/s, {100 * (summary['data_wait_share'] or 0):.0f}% of it "
          "waiting for data")
