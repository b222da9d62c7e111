"""DVC stage bench (bench/dvc.yaml, not part of the default `dvc repro`): throughput and memory per task.

usage: python -m stages.bench <bench json> <bench png> <benchmarks md>
       (run it with `./aign repro bench/dvc.yaml`)

Per task (pose, sfm, sr, inpaint; params `bench`), each in its own process so that peak memory is the task's own:
raw-layout reading and preparing (samples/s), the shard loader with 0 and `bench.workers` workers, full aign training
steps of the default model on the current device without data loading, the renderer's share of a step (renderer and
reconstruction loss, forward and backward), and peak memory (GPU memory on CUDA, resident set size on the CPU).
Ratios: loader / raw reading, loader / training step (targets in TARGETS). For sfm, raw reading is also measured on a
world rendered at the real Virtual KITTI resolution (the default stand-in is half size).
"""

import argparse
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch
import yaml

from pipeline import bench
from pipeline.aign import seed_everything
from pipeline.atomic import atomic_outputs, write_json
from pipeline.batches import one_pass
from pipeline.errors import ParamsError
from pipeline.figures import grouped_bars
from pipeline.shards import split_urls
from pipeline.tasks.plugin import TaskPlugin
from pipeline.tasks.registry import TASKS
from stages.common import load_experiments, load_params, params_path, stage_main


def _memory_folder(plugin: TaskPlugin, item: str) -> str:
    """The shard folder of the task's memory: the dataset's own, or the face memory set `item`."""
    return f"celeba_memory/{item}" if plugin.memory_data == "memory" else plugin.dataset


def _item(name: str) -> str:
    """The experiment measured: aign of pose and sfm, the first memory set the face experiments list."""
    return "aign" if name in ("pose", "sfm") else load_experiments()[name][0]


@dataclass
class BenchSettings:
    tasks: list[str]
    workers: int = 2  # DataLoader workers of the second loader measurement
    samples: int = 500  # raw samples read and prepared per task
    batches: int = 20  # loader batches per measurement
    steps: int = 10  # timed training steps per task
    renderer_reps: int = 10

    def check(self, where: str) -> None:
        unknown = sorted(set(self.tasks) - set(TASKS))
        if unknown or not self.tasks:
            raise ParamsError(f"param {where}.tasks: found {self.tasks}, expected some of {', '.join(TASKS)}")


def measure(name: str, cfg: BenchSettings, shard_root: Path, models: Path) -> dict:
    plugin, item = TASKS[name], _item(name)
    dataset, memory = plugin.dataset, _memory_folder(plugin, item)
    data = {"shards": shard_root / dataset, "memory": shard_root / memory, "basis": models / "pose_basis.npz"}
    params = yaml.safe_load(params_path().read_text())
    seed_everything(0)
    settings, train_cfg = plugin.settings(load_params, item)  # as the train stage builds it
    task = plugin.build(settings, data)
    generator, discriminator = task.build()
    collate_inputs, collate_memory = plugin.collate_for(plugin.variant(item)), plugin.collate_memory
    urls = split_urls(shard_root / dataset, "inputs")
    result = {
        "raw_samples_per_s": bench.raw_rate(bench.RAW_READERS[dataset](params), cfg.samples),
        "prepare_samples_per_s": bench.prepare_rate(bench.RAW_READERS[dataset](params), cfg.samples),
        "loader_samples_per_s_0_workers": bench.loader_rate(urls, train_cfg.batch_size, collate_inputs, 0,
                                                            cfg.batches),
        f"loader_samples_per_s_{cfg.workers}_workers": bench.loader_rate(urls, train_cfg.batch_size, collate_inputs,
                                                                         cfg.workers, cfg.batches),
    }
    batch = next(one_pass(urls, train_cfg.batch_size, collate_inputs))
    memory_batch = next(one_pass(split_urls(shard_root / memory, "memory"), train_cfg.batch_size, collate_memory))
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    step = bench.step_rate(task, generator, discriminator, batch, memory_batch, train_cfg, cfg.steps)
    renderer = bench.renderer_seconds(task, generator, batch, cfg.renderer_reps)
    loader = result[f"loader_samples_per_s_{cfg.workers}_workers"]
    if name == "sfm":
        with tempfile.TemporaryDirectory() as tmp:
            real = bench.raw_rate(bench.raw_vkitti_real_resolution(params, Path(tmp)), cfg.samples)
        result |= {"raw_samples_per_s_1242x375": real, "loader_vs_raw_1242x375": loader / real}
    result |= {
        "train_step_samples_per_s": step,
        "renderer_share": renderer * step / train_cfg.batch_size,
        "peak_memory_mib": bench.peak_memory_mib(device),
        "loader_vs_raw": loader / result["raw_samples_per_s"],
        "loader_vs_step": loader / step,
        "batch_size": train_cfg.batch_size,
    }
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in result.items()}


TARGETS = {"loader_vs_raw": 5.0, "loader_vs_step": 3.0}  # at least; renderer_share: below 0.25


@stage_main
def main(argv):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("metrics", type=Path, nargs="?")
    parser.add_argument("plot", type=Path, nargs="?")
    parser.add_argument("page", type=Path, nargs="?")
    parser.add_argument("--task", help="measure this one task into --out (the stage runs one process per task)")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--shards", type=Path, default=Path("data/shards"))
    parser.add_argument("--models", type=Path, default=Path("data/models"))
    args = parser.parse_args(argv)
    cfg = load_params("bench", BenchSettings)
    if args.task:
        args.out.write_text(json.dumps(measure(args.task, cfg, args.shards, args.models)))
        return
    if args.page is None:
        parser.error("expected <bench json> <bench png> <benchmarks md>")

    device = "cuda" if torch.cuda.is_available() else "cpu"
    results = {"device": torch.cuda.get_device_name() if device == "cuda" else "cpu",
               "torch_threads": torch.get_num_threads(), "tasks": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name in cfg.tasks:
            print(f"bench: {name} ...", flush=True)
            out = Path(tmp) / f"{name}.json"
            child = subprocess.run([sys.executable, "-m", "stages.bench", "--task", name, "--out", str(out),
                                    "--shards", str(args.shards), "--models", str(args.models)])
            if child.returncode != 0:
                sys.exit(child.returncode)
            results["tasks"][name] = json.loads(out.read_text())
    page = benchmarks_page(results, cfg.workers)
    print(page)
    with atomic_outputs(args.metrics, args.plot, args.page) as (metrics, plot, page_path):
        write_json(metrics, results)
        page_path.write_text(page)
        rates = {"raw layout": "raw_samples_per_s", "prepare": "prepare_samples_per_s",
                 "loader, 0 workers": "loader_samples_per_s_0_workers",
                 f"loader, {cfg.workers} workers": f"loader_samples_per_s_{cfg.workers}_workers",
                 "train step": "train_step_samples_per_s"}
        grouped_bars(plot, list(results["tasks"]), {label: [r[key] for r in results["tasks"].values()]
                                                    for label, key in rates.items()},
                     "samples/s (log)", f"Throughput per task on {results['device']}", log=True)


def benchmarks_page(results: dict, workers: int) -> str:
    """docs/benchmarks.md: what is measured, and the table of this run."""
    lines = ["# Benchmarks", "",
             "Written by the bench stage (`./aign repro bench/dvc.yaml`) from `metrics/bench.json`; it measures the "
             f"machine it runs on ({results['device']}, {results['torch_threads']} torch threads), so the figures "
             "move between machines and, by 10-30%, between runs on a shared one.", "",
             "Per task, each in its own process: reading the raw layout (the real-format reader plus the prepare "
             "stage's per-sample work), preparing (that plus encoding and writing shards), the shard loader "
             f"(decoding, shuffling, collating training batches) with 0 and {workers} DataLoader workers, full aign "
             "training steps of the default model without data loading, the renderer's share of a step (renderer "
             "and reconstruction loss, forward and backward), and peak memory (GPU memory on CUDA, resident set "
             "size on the CPU). Samples per second; `!` marks a ratio below its target (loader / raw >= "
             f"{TARGETS['loader_vs_raw']}x, loader / step >= {TARGETS['loader_vs_step']}x, renderer < 25% of a "
             "step).", "",
             f"| task | raw layout | prepare | loader, 0 workers | loader, {workers} workers | train step | "
             "loader / raw | loader / step | renderer share | peak MiB |", "|---" * 10 + "|"]
    def ratio(r: dict, key: str) -> str:
        return f"{r[key]:.1f}x" + ("" if r[key] >= TARGETS[key] else " !")

    for name, r in results["tasks"].items():
        lines.append(
            f"| {name} | {r['raw_samples_per_s']:.0f} | {r['prepare_samples_per_s']:.0f} | "
            f"{r['loader_samples_per_s_0_workers']:.0f} | {r[f'loader_samples_per_s_{workers}_workers']:.0f} | "
            f"{r['train_step_samples_per_s']:.0f} | {ratio(r, 'loader_vs_raw')} | {ratio(r, 'loader_vs_step')} | "
            f"{100 * r['renderer_share']:.1f}%{'' if r['renderer_share'] < 0.25 else ' !'} | "
            f"{r['peak_memory_mib']:.0f} |")
        if "raw_samples_per_s_1242x375" in r:
            lines.append(f"| {name}, raw frames at the real 1242x375 | {r['raw_samples_per_s_1242x375']:.0f} | | | | "
                         f"| {r['loader_vs_raw_1242x375']:.1f}x | | | |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
