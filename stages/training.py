"""What the train_<task> stages share: streams from shards, resumable training, atomic outputs."""

import hashlib
import json
import shutil
from pathlib import Path

import torch

from pipeline.aign import TrainConfig, train
from pipeline.atomic import atomic_outputs, write_json
from pipeline.batches import BatchStream
from pipeline.shards import read_manifest, split_urls

CHECKPOINTS = Path("data/checkpoints")


def fingerprint(*parts) -> str:
    """Digest of everything that determines a run (params, variant, input files)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def run_training(experiment: str, variant: str, task, generator, discriminator, *, shards: Path, memory_shards: Path,
                 collate_inputs, collate_memory, cfg: TrainConfig, determined_by: list, model_info: dict,
                 outputs: tuple[Path, Path, Path]) -> None:
    """Train, then write the generator and `model_info` (model dir), the run summary (metrics json) and the
    dvclive logs. Checkpoints and logs live in data/checkpoints/<experiment>/ until the run succeeds, so an
    interrupted run resumes when everything in `determined_by` is unchanged."""
    inputs = BatchStream(split_urls(shards, "inputs"), cfg.batch_size, collate_inputs, shuffle=cfg.shuffle,
                         seed=cfg.seed, num_workers=cfg.num_workers)
    memory = BatchStream(split_urls(memory_shards, "memory"), cfg.batch_size, collate_memory, shuffle=cfg.shuffle,
                         seed=cfg.seed + 10_000, num_workers=cfg.num_workers)
    scratch = CHECKPOINTS / experiment
    digest = fingerprint(variant, cfg, *determined_by, read_manifest(shards)["splits"],
                         read_manifest(memory_shards)["splits"])
    summary = train(task, generator, discriminator, inputs, memory, cfg, variant,
                    checkpoint=scratch / "checkpoint.pt", fingerprint=digest, log_dir=scratch / "live",
                    name=f"train_{experiment}")
    with atomic_outputs(*outputs) as (model_dir, metrics, live):
        model_dir.mkdir()
        torch.save(generator.state_dict(), model_dir / "generator.pt")
        write_json(model_dir / "model.json", {"variant": variant, "log_every": cfg.log_every, **model_info})
        write_json(metrics, {"experiment": experiment, **summary})
        shutil.copytree(scratch / "live", live)
    shutil.rmtree(scratch)
    print(f"train_{experiment}: {summary['steps']} steps on {summary['device']}, "
          f"{summary['train_samples_per_s']} samples/s")
