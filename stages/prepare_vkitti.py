"""DVC stage prepare_vkitti: Virtual KITTI (real or synthetic) -> webdataset shards + sample counts.

usage: python -m stages.prepare_vkitti <shard folder> <metrics json>
"""


from pipeline.atomic import atomic_outputs, write_json
from pipeline.datasets.images import CorruptTally
from pipeline.datasets.vkitti import open_vkitti
from pipeline.prepare import SPLITS, require_samples, write_split_samples
from pipeline.prepare.vkitti import PrepareVkitti, SceneStats, depth_samples, pair_samples
from pipeline.progress import StageProgress
from pipeline.shards import ShardSet
from pipeline.synthetic import is_synthetic
from stages.common import load_params, parse_paths, report_throughput, stage_main


@stage_main
def main(argv):
    args = parse_paths(argv, __doc__, "shards", "metrics")
    cfg = load_params("vkitti", PrepareVkitti)

    # Parse every sequence's metadata first: a wrong layout fails before any image is decoded.
    sequences = [(split, open_vkitti(cfg.root, cfg.layout, world, variation, cfg.camera))
                 for split in SPLITS for world in getattr(cfg.splits, split) for variation in cfg.variations]
    total = sum(len(range(0, len(seq.frames) - (0 if split == "memory" else cfg.gap), cfg.stride))
                for split, seq in sequences)
    tally = CorruptTally(cfg.max_corrupt_fraction, "vkitti.max_corrupt_fraction")
    stats = {split: SceneStats() for split in SPLITS}
    with (atomic_outputs(args.shards, args.metrics) as (shard_dir, metrics),
          ShardSet(shard_dir, max_samples=cfg.shard_max_samples) as shards):
        with StageProgress("prepare_vkitti", total) as progress:
            for split, seq in sequences:
                samples = (depth_samples if split == "memory" else pair_samples)(seq, cfg, tally, progress)
                write_split_samples(shards, ((split, sample) for sample in samples), stats, progress)
        tally.check()
        require_samples(shards, SPLITS, lambda split: f"split {split} (worlds {getattr(cfg.splits, split)})")
        manifest = shards.close(dataset="vkitti", synthetic=is_synthetic(cfg.root), layout=cfg.layout,
                                size=list(cfg.size), gap=cfg.gap, corrupt_skipped=tally.skipped,
                                stats={split: s.summary() for split, s in stats.items()})
        write_json(metrics, {split: manifest["splits"][split]["count"] for split in SPLITS}
                   | {"corrupt_skipped": len(tally.skipped)})
    report_throughput("prepare_vkitti", progress.samples, progress.elapsed)


if __name__ == "__main__":
    main()
