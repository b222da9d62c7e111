"""DVC stage synthesize_<dataset>: write a synthetic stand-in in the real on-disk layout.

usage: python -m stages.synthesize {h36m,vkitti,celeba,kitti_odometry} <output folder>
"""

import argparse
import dataclasses
from pathlib import Path

from pipeline.atomic import atomic_outputs
from pipeline.parallel import data_workers
from pipeline.progress import StageProgress
from pipeline.synthetic.celeba import SynthCeleba, write_celeba
from pipeline.synthetic.h36m import SynthH36m, write_h36m
from pipeline.synthetic.kitti_odometry import SynthKittiOdometry, write_kitti_odometry_root
from pipeline.synthetic.vkitti import SynthVkitti, write_vkitti
from stages.common import load_params, stage_main

PARALLEL = {"vkitti", "kitti_odometry"}  # writers whose work items are independent: they take `workers`
WRITERS = {
    "h36m": (SynthH36m, write_h36m),
    "vkitti": (SynthVkitti, write_vkitti),
    "celeba": (SynthCeleba, write_celeba),
    "kitti_odometry": (SynthKittiOdometry, write_kitti_odometry_root),
}


@stage_main
def main(argv):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dataset", choices=sorted(WRITERS))
    parser.add_argument("output", type=Path)
    args = parser.parse_args(argv)
    params_cls, write = WRITERS[args.dataset]
    cfg = load_params(f"synthetic.{args.dataset}", params_cls)
    with atomic_outputs(args.output) as (folder,):
        with StageProgress(f"synthesize_{args.dataset}", cfg.units()) as progress:
            workers = {"workers": data_workers()} if args.dataset in PARALLEL else {}
            write(folder, **dataclasses.asdict(cfg), progress=progress, **workers)
    print(f"synthesize_{args.dataset}: wrote {args.output} in {progress.elapsed:.1f} s")


if __name__ == "__main__":
    main()
