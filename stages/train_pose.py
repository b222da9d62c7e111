"""DVC stage train_pose@<variant>: train the pose generator (and discriminator) with the shared AIGN loop.

usage: python -m stages.train_pose <variant> <h36m shards> <basis .npz> <model dir> <metrics json> <dvclive dir>
       [--seed N]

Checkpoints go to data/checkpoints/pose-<variant>/ every pose.train.checkpoint_every steps; an interrupted run
started again with the same code, params and data resumes there and ends with the same weights.
"""

import argparse
import dataclasses
from pathlib import Path

from pipeline.aign import VARIANTS, TrainConfig, seed_everything
from pipeline.pose_basis import ShapeBasis
from pipeline.shards import read_manifest, sha256_file
from pipeline.tasks.pose import PoseModel, PoseTask, collate_inputs, collate_memory
from stages.common import load_params, stage_main
from stages.training import add_seed_option, run_training, seeded


@stage_main
def main(argv):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("variant", choices=VARIANTS)
    for name in ("shards", "basis", "model", "metrics", "live"):
        parser.add_argument(name, type=Path)
    add_seed_option(parser)
    args = parser.parse_args(argv)
    model_cfg = load_params("pose.model", PoseModel)
    cfg, experiment = seeded(load_params("pose.train", TrainConfig), f"pose-{args.variant}", args.seed)
    manifest = read_manifest(args.shards)

    seed_everything(cfg.seed)
    task = PoseTask(ShapeBasis.load(args.basis), model_cfg, manifest["heatmap_size"], manifest["heatmap_sigma"])
    generator, discriminator = task.build()
    run_training(experiment, args.variant, task, generator, discriminator,
                 stage=__spec__.name, shards=args.shards,
                 memory_shards=args.shards, collate_inputs=collate_inputs, collate_memory=collate_memory, cfg=cfg,
                 determined_by=[dataclasses.asdict(model_cfg), sha256_file(args.basis)],
                 model_info={"task": "pose", "model": dataclasses.asdict(model_cfg),
                             "heatmap_size": manifest["heatmap_size"], "heatmap_sigma": manifest["heatmap_sigma"]},
                 outputs=(args.model, args.metrics, args.live))


if __name__ == "__main__":
    main()
