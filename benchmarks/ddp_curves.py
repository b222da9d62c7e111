"""Loss curves of one training stage run with 1 process and with N DDP processes at the same global batch.

usage: ./aign repro pose_basis && ./aign python -m benchmarks.ddp_curves [--task pose] [--variant aign]
           [--processes 2] [--steps 500] [--out metrics/bench_ddp.json] [--plot plots/bench_ddp.png]

Each run is the real stage (`python -m stages.train_<task>`) with `runtime.processes` set, in a temporary folder;
the curves are its dvclive logs. Printed per loss: the mean over the last fifth of training for both runs, and the
correlation of the two curves smoothed over 5 logged points.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import matplotlib
import numpy as np
import yaml

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
STAGE_ARGS = {
    "pose": lambda variant: ["stages.train_pose", variant, str(REPO / "data/shards/h36m"),
                             str(REPO / "data/models/pose_basis.npz")],
    "sfm": lambda variant: ["stages.train_sfm", variant, str(REPO / "data/shards/vkitti")],
}


def run(task: str, variant: str, processes: int, steps: int, work: Path) -> tuple[dict, dict[str, np.ndarray]]:
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["runtime"]["processes"] = processes
    params[task]["train"]["steps"] = steps
    work.mkdir()
    (work / "params.yaml").write_text(yaml.safe_dump(params))
    command = [sys.executable, "-m", *STAGE_ARGS[task](variant), "model", "train.json", "live"]
    env = dict(os.environ, AIGN_PARAMS=str(work / "params.yaml"), PYTHONPATH=str(REPO))
    start = time.perf_counter()
    subprocess.run(command, cwd=work, env=env, check=True)
    seconds = time.perf_counter() - start
    summary = json.loads((work / "train.json").read_text()) | {"wall_s": round(seconds, 1)}
    curves = {}
    for tsv in sorted((work / "live/plots/metrics/train").glob("*.tsv")):
        curves[tsv.stem] = np.loadtxt(tsv, skiprows=1, usecols=1)
    return summary, curves


def smooth(values: np.ndarray, width: int = 5) -> np.ndarray:
    return np.convolve(values, np.ones(width) / width, mode="valid")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--task", choices=STAGE_ARGS, default="pose")
    parser.add_argument("--variant", default="aign")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--plot", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runs = {n: run(args.task, args.variant, n, args.steps, Path(tmp) / f"p{n}") for n in (1, args.processes)}
    one, many = runs[1][1], runs[args.processes][1]
    report = {"task": args.task, "variant": args.variant, "steps": args.steps,
              "runs": {str(n): summary for n, (summary, _) in runs.items()}, "losses": {}}
    for name in one:
        tail = max(1, len(one[name]) // 5)
        correlation = float(np.corrcoef(smooth(one[name]), smooth(many[name]))[0, 1])
        report["losses"][name] = {"final_mean_1": float(one[name][-tail:].mean()),
                                  f"final_mean_{args.processes}": float(many[name][-tail:].mean()),
                                  "correlation": round(correlation, 4)}
        print(f"{name:10s} last-fifth mean: 1 process {one[name][-tail:].mean():.5f}, {args.processes} processes "
              f"{many[name][-tail:].mean():.5f}; correlation of the smoothed curves {correlation:.3f}")
    for n, (summary, _) in runs.items():
        print(f"{n} process(es): {summary['train_samples_per_s']} samples/s, {summary['wall_s']} s wall")
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    if args.plot:
        fig, axes = plt.subplots(1, len(one), figsize=(3.2 * len(one), 2.8), squeeze=False)
        for ax, name in zip(axes[0], one, strict=True):
            for n, curve in ((1, one[name]), (args.processes, many[name])):
                ax.plot(smooth(curve), label=f"{n} process{'es' if n > 1 else ''}")
            ax.set_title(name, fontsize=9)
            ax.set_xlabel("logged step", fontsize=8)
            ax.legend(fontsize=7)
        fig.suptitle(f"{args.task}-{args.variant}: 1 vs {args.processes} DDP processes, same global batch",
                     fontsize=10)
        fig.tight_layout()
        fig.savefig(args.plot, dpi=100)


if __name__ == "__main__":
    main()
