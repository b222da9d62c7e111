"""DVC stage train_pose@<variant>: train the pose generator (and discriminator) with the shared AIGN loop.

usage: python -m stages.train_pose <variant> <h36m shards> <basis .npz> <model dir> <metrics json> <dvclive dir>

Checkpoints go to data/checkpoints/pose-<variant>/ every pose.train.checkpoint_every steps; an interrupted run
started again with the same code, params and data resumes there and ends with the same weights.
"""

import argparse
import dataclasses
import hashlib
import json
import shutil
from pathlib import Path

import torch

from pipeline.aign import VARIANTS, TrainConfig, seed_everything, train
from pipeline.atomic import atomic_outputs, write_json
from pipeline.batches import BatchStream
from pipeline.pose_basis import ShapeBasis
from pipeline.shards import read_manifest, sha256_file, split_urls
from pipeline.tasks.pose import PoseModel, PoseTask, collate_inputs, collate_memory
from stages.common import load_params, stage_main

CHECKPOINTS = Path("data/checkpoints")


def fingerprint(*parts) -> str:
    """Digest of everything that determines a run (params, variant, input files)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


@stage_main
def main(argv):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("variant", choices=VARIANTS)
    for name in ("shards", "basis", "model", "metrics", "live"):
        parser.add_argument(name, type=Path)
    args = parser.parse_args(argv)
    model_cfg = load_params("pose.model", PoseModel)
    cfg = load_params("pose.train", TrainConfig)
    manifest = read_manifest(args.shards)
    experiment = f"pose-{args.variant}"

    seed_everything(cfg.seed)
    task = PoseTask(ShapeBasis.load(args.basis), model_cfg, manifest["heatmap_size"], manifest["heatmap_sigma"])
    generator, discriminator = task.build()
    inputs = BatchStream(split_urls(args.shards, "inputs"), cfg.batch_size, collate_inputs, shuffle=cfg.shuffle,
                         seed=cfg.seed, num_workers=cfg.num_workers)
    memory = BatchStream(split_urls(args.shards, "memory"), cfg.batch_size, collate_memory, shuffle=cfg.shuffle,
                         seed=cfg.seed + 10_000, num_workers=cfg.num_workers)
    scratch = CHECKPOINTS / experiment
    digest = fingerprint(dataclasses.asdict(model_cfg), dataclasses.asdict(cfg), args.variant,
                         sha256_file(args.basis), manifest["splits"])
    summary = train(task, generator, discriminator, inputs, memory, cfg, args.variant,
                    checkpoint=scratch / "checkpoint.pt", fingerprint=digest, log_dir=scratch / "live",
                    name=f"train_{experiment}")

    with atomic_outputs(args.model, args.metrics, args.live) as (model_dir, metrics, live):
        model_dir.mkdir()
        torch.save(generator.state_dict(), model_dir / "generator.pt")
        write_json(model_dir / "model.json", {"task": "pose", "variant": args.variant,
                                              "model": dataclasses.asdict(model_cfg),
                                              "heatmap_size": manifest["heatmap_size"],
                                              "heatmap_sigma": manifest["heatmap_sigma"],
                                              "log_every": cfg.log_every})
        write_json(metrics, {"experiment": experiment, **summary})
        shutil.copytree(scratch / "live", live)
    shutil.rmtree(scratch)
    print(f"train_{experiment}: {summary['steps']} steps on {summary['device']}, "
          f"{summary['train_samples_per_s']} samples/s")


if __name__ == "__main__":
    main()
