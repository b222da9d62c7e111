"""DVC stages prepare_celeba and prepare_celeba_memory: CelebA (real or synthetic) -> webdataset shards.

usage: python -m stages.prepare_celeba main <shard folder> <metrics json>            inputs, val and test splits
       python -m stages.prepare_celeba memory <set> <shard folder> <metrics json>   a memory set (celeba.memory_sets)
"""

import argparse
from pathlib import Path

from pipeline.atomic import atomic_outputs, write_json
from pipeline.datasets.celeba import ATTR_FILE, AttributeFilter, check_layout, iter_records, read_header
from pipeline.datasets.images import CorruptTally
from pipeline.errors import ParamsError
from pipeline.prepare import require_samples, write_split_samples
from pipeline.prepare.celeba import FaceStats, PrepareCeleba, face_samples, route_main, route_memory
from pipeline.progress import StageProgress
from pipeline.shards import ShardSet
from pipeline.synthetic import is_synthetic
from stages.common import load_params, report_throughput, stage_main

MAIN_SPLITS = ("inputs", "val", "test")


@stage_main
def main(argv):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("part", choices=("main", "memory"))
    parser.add_argument("memory_set", nargs="?", help="memory only: a key of celeba.memory_sets")
    parser.add_argument("shards", type=Path)
    parser.add_argument("metrics", type=Path)
    args = parser.parse_args(argv)
    if (args.part == "memory") != (args.memory_set is not None):
        parser.error("the memory part takes a memory set name, the main part none")
    cfg = load_params("celeba", PrepareCeleba)
    if args.part == "memory" and args.memory_set not in cfg.memory_sets:
        raise ParamsError(f"memory set {args.memory_set!r}: not in celeba.memory_sets, expected one of "
                          f"{', '.join(cfg.memory_sets)}")
    root = check_layout(cfg.root)
    count, names = read_header(root / ATTR_FILE)
    extra = {}
    if args.part == "main":
        splits, route = MAIN_SPLITS, route_main(cfg)
    else:
        wanted = cfg.memory_sets[args.memory_set]
        keep = AttributeFilter(args.memory_set, wanted, names, f"celeba.memory_sets.{args.memory_set}")
        splits, route = ("memory",), route_memory(cfg, keep)
        extra = {"memory_set": args.memory_set, "filter": wanted}

    tally = CorruptTally(cfg.max_corrupt_fraction, "celeba.max_corrupt_fraction")
    stats = {split: FaceStats(names) for split in splits}
    stage = "prepare_celeba" if args.part == "main" else f"prepare_celeba_memory@{args.memory_set}"
    with (atomic_outputs(args.shards, args.metrics) as (shard_dir, metrics),
          ShardSet(shard_dir, max_samples=cfg.shard_max_samples) as shards):
        with StageProgress(stage, count) as progress:
            write_split_samples(shards, face_samples(cfg, iter_records(root), route, tally, progress), stats,
                                progress)
        tally.check()
        require_samples(shards, splits, lambda split: f"memory set {args.memory_set} {extra['filter']} (loosen "
                        "celeba.memory_sets)" if split == "memory" else f"split {split} in {root}")
        manifest = shards.close(dataset="celeba", synthetic=is_synthetic(root), size=cfg.size,
                                crop_box=list(cfg.crop_box), attributes=list(names), **extra,
                                corrupt_skipped=tally.skipped, stats={s: v.summary() for s, v in stats.items()})
        write_json(metrics, {split: manifest["splits"][split]["count"] for split in splits}
                   | {"corrupt_skipped": len(tally.skipped)})
    report_throughput(stage, progress.samples, progress.elapsed)


if __name__ == "__main__":
    main()
