"""DVC stage train_sfm@<variant>: depth and camera motion from Virtual KITTI pairs with the shared AIGN loop.

usage: python -m stages.train_sfm <variant> <vkitti shards> <model dir> <metrics json> <dvclive dir> [--seed N]
"""

import argparse
import dataclasses
from pathlib import Path

from pipeline.aign import VARIANTS, TrainConfig, seed_everything
from pipeline.shards import read_manifest
from pipeline.tasks.sfm import SfmModel, SfmTask, collate_depths, collate_pairs
from stages.common import load_params, stage_main
from stages.training import add_seed_option, run_training, seeded


@stage_main
def main(argv):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("variant", choices=VARIANTS)
    for name in ("shards", "model", "metrics", "live"):
        parser.add_argument(name, type=Path)
    add_seed_option(parser)
    args = parser.parse_args(argv)
    model_cfg = load_params("sfm.model", SfmModel)
    cfg, experiment = seeded(load_params("sfm.train", TrainConfig), f"sfm-{args.variant}", args.seed)

    seed_everything(cfg.seed)
    task = SfmTask(model_cfg)
    generator, discriminator = task.build()
    run_training(experiment, args.variant, task, generator, discriminator,
                 stage=__spec__.name, shards=args.shards,
                 memory_shards=args.shards, collate_inputs=collate_pairs, collate_memory=collate_depths, cfg=cfg,
                 determined_by=[dataclasses.asdict(model_cfg)],
                 model_info={"task": "sfm", "model": dataclasses.asdict(model_cfg),
                             "input_size": read_manifest(args.shards)["size"]},
                 outputs=(args.model, args.metrics, args.live))


if __name__ == "__main__":
    main()
