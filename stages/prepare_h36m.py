"""DVC stage prepare_h36m: Human3.6M (real or synthetic) -> webdataset shards + sample counts.

usage: python -m stages.prepare_h36m <shard folder> <metrics json>
"""


from pipeline.atomic import atomic_outputs, write_json
from pipeline.datasets.h36m import CORRUPT_SEQUENCES, open_h36m, sequence_files
from pipeline.parallel import data_workers
from pipeline.prepare import SPLITS, require_samples
from pipeline.prepare.h36m import PrepareH36m, prepare_h36m
from pipeline.progress import StageProgress
from pipeline.shards import ShardSet
from pipeline.synthetic import is_synthetic
from stages.common import load_params, parse_paths, report_throughput, stage_main


def count_sequences(cfg: PrepareH36m, subjects) -> int | None:
    if cfg.layout != "3d-pose-baseline":
        return None
    return sum(1 for s in subjects for p in sequence_files(cfg.root, s) if (s, p.stem) not in CORRUPT_SEQUENCES)


@stage_main
def main(argv):
    args = parse_paths(argv, __doc__, "shards", "metrics")
    cfg = load_params("h36m", PrepareH36m)

    subjects = list(dict.fromkeys(cfg.splits.inputs + cfg.splits.memory + cfg.splits.test))
    cameras, sequences = open_h36m(cfg.root, cfg.layout, subjects)
    with (atomic_outputs(args.shards, args.metrics) as (shard_dir, metrics),
          ShardSet(shard_dir, max_samples=cfg.shard_max_samples) as shards):
        with StageProgress("prepare_h36m", count_sequences(cfg, subjects)) as progress:
            stats = prepare_h36m(cfg, cameras, sequences, shards, progress, data_workers())
        require_samples(shards, SPLITS, lambda split: f"split {split} (subjects {getattr(cfg.splits, split)})")
        manifest = shards.close(dataset="h36m", synthetic=is_synthetic(cfg.root), layout=cfg.layout,
                                joints=17, heatmap_size=cfg.heatmap_size,
                                heatmap_sigma=cfg.heatmap_sigma, stats=stats)
        write_json(metrics, {split: manifest["splits"][split]["count"] for split in SPLITS})
    report_throughput("prepare_h36m", progress.samples, progress.elapsed)


if __name__ == "__main__":
    main()
