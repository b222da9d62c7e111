"""Reading prepared shards against reading the same samples from the raw layout, per dataset.

usage: ./aign repro && ./aign python -m benchmarks.shard_read [--samples 2000] [--out metrics/bench_shard_read.json]
"Raw" is what a training loop would do without shards: the real-format reader plus the per-sample work of the
prepare stage (decode full-size images, crop and resize; project poses and render heatmaps). "Shards" is streaming
the prepared tar files with decoding included. Both produce the same sample dictionaries. `vkitti@1242x375` reads
raw pairs of a world rendered at the real dataset's resolution (the default stand-in is half size).
"""

import argparse
import atexit
import itertools
import json
import shutil
import tempfile
import time
from pathlib import Path

import yaml

from pipeline.config import parse
from pipeline.datasets.celeba import iter_records
from pipeline.datasets.h36m import open_h36m
from pipeline.datasets.images import CorruptTally
from pipeline.datasets.vkitti import VKITTI1_SIZE, open_vkitti
from pipeline.prepare.celeba import PrepareCeleba, face_samples, route_main
from pipeline.prepare.h36m import PrepareH36m, sequence_samples
from pipeline.prepare.vkitti import PrepareVkitti, pair_samples
from pipeline.shards import iterate_split
from pipeline.synthetic.vkitti import write_vkitti


class _NoProgress:
    def step(self, n=1):
        pass


def raw_h36m(params):
    cfg = parse(PrepareH36m, params["h36m"], "h36m")
    cameras, sequences = open_h36m(cfg.root, cfg.layout, cfg.splits.inputs)
    return (sample for seq in sequences for sample in sequence_samples(seq, cameras, cfg, with_2d=True))


def raw_vkitti(params):
    cfg = parse(PrepareVkitti, params["vkitti"], "vkitti")
    return _raw_pairs(cfg)


def raw_vkitti_full_size(params):
    """The same pairs read from a world rendered at the real dataset's 1242x375 (decoding cost grows with it)."""
    cfg = parse(PrepareVkitti, params["vkitti"], "vkitti")
    cfg.root = tempfile.mkdtemp(prefix="vkitti_full_")
    atexit.register(shutil.rmtree, cfg.root, True)
    world = cfg.splits.inputs[0]
    write_vkitti(Path(cfg.root), seed=0, worlds=[world], variations=cfg.variations, frames=30, size=VKITTI1_SIZE)
    cfg.splits.inputs = [world]
    return _raw_pairs(cfg)


def _raw_pairs(cfg):
    tally = CorruptTally(1.0, "vkitti.max_corrupt_fraction")
    return (sample for world in cfg.splits.inputs for variation in cfg.variations
            for sample in pair_samples(open_vkitti(cfg.root, cfg.layout, world, variation, cfg.camera), cfg, tally,
                                       _NoProgress()))


def raw_celeba(params):
    cfg = parse(PrepareCeleba, params["celeba"], "celeba")
    tally = CorruptTally(1.0, "celeba.max_corrupt_fraction")
    samples = face_samples(cfg, iter_records(cfg.root), route_main(cfg), tally, _NoProgress())
    return (sample for split, sample in samples if split == "inputs")


RAW = {"h36m": raw_h36m, "vkitti": raw_vkitti, "vkitti@1242x375": raw_vkitti_full_size, "celeba": raw_celeba}


def rate(samples, limit: int) -> tuple[int, float]:
    start = time.perf_counter()
    count = sum(1 for _ in itertools.islice(samples, limit))
    return count, count / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--shards", type=Path, default=Path("data/shards"))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    params = yaml.safe_load(Path("params.yaml").read_text())
    results = {}
    for dataset, raw in RAW.items():
        n_raw, raw_rate = rate(raw(params), args.samples)
        n_shard, shard_rate = rate(iterate_split(args.shards / dataset.split("@")[0], "inputs"), args.samples)
        results[dataset] = {"raw_samples_per_s": round(raw_rate, 1), "shard_samples_per_s": round(shard_rate, 1),
                            "speedup": round(shard_rate / raw_rate, 2), "samples": min(n_raw, n_shard)}
        print(f"{dataset:16s} raw {raw_rate:8.0f} samples/s   shards {shard_rate:8.0f} samples/s   "
              f"shards/raw {shard_rate / raw_rate:5.1f}x   ({min(n_raw, n_shard)} samples)")
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
