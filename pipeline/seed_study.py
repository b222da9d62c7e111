"""The seed study's arithmetic: paired differences between two runs of a task over seeds, their mean, spread and wins.

A comparison pits a run against its counterpart trained with the same seed (same initialisation, same data order):
aign against recon_only for pose and structure from motion, a face memory with an attribute against the memory
without it (young against old) for super-resolution and inpainting. A difference smaller than its spread over seeds
is not a result.
"""

from dataclasses import dataclass
from typing import Literal

import numpy as np

from pipeline.memory_sets import memory_pairs


@dataclass(frozen=True)
class Headline:
    """A metric of a task's evaluation JSON (dotted `key`, `{memory}` filled in for face comparisons)."""

    name: str
    key: str
    better: Literal["lower", "higher"]


HEADLINES = {
    "pose": (Headline("mpjpe", "average.mpjpe", "lower"), Headline("p_mpjpe", "average.p_mpjpe", "lower")),
    "sfm": (Headline("abs_rel", "depth.abs_rel", "lower"), Headline("a1", "depth.a1", "higher"),
            Headline("scale_drift", "layout.scale_drift", "lower")),
    "sr": (Headline("psnr", "psnr", "higher"), Headline("rate", "attribute_rate.output.{memory}", "higher")),
    "inpaint": (Headline("psnr", "psnr", "higher"), Headline("rate", "attribute_rate.output.{memory}", "higher")),
}
def pairs(experiments: dict[str, list[str]], memory_sets: dict[str, dict[str, int]]) -> list[tuple[str, str, str]]:
    """(task, run, counterpart) for every comparison the listed experiments allow."""
    found = []
    for task in ("pose", "sfm"):
        if {"aign", "recon_only"} <= set(experiments.get(task, [])):
            found.append((task, "aign", "recon_only"))
    for task in ("sr", "inpaint"):
        found += [(task, *pair) for pair in memory_pairs(experiments.get(task, []), memory_sets)]
    return found


def lookup(metrics: dict, key: str) -> float:
    node = metrics
    for part in key.split("."):
        node = node[part]
    return float(node)


def _summary(values: np.ndarray) -> dict:
    """Mean and standard deviation over seeds (n - 1; None for a single seed)."""
    return {"mean": round(float(values.mean()), 4),
            "std": round(float(values.std(ddof=1)), 4) if len(values) > 1 else None}


def compare(task: str, run: str, counterpart: str, results: dict[int, dict[str, dict]]) -> dict:
    """Per headline metric: each run's values over seeds, the paired differences run - counterpart, their mean and
    standard deviation, and on how many seeds the run is better. `results`: seed -> experiment name
    (`<task>-<name>`) -> evaluation metrics."""
    out = {}
    seeds = sorted(results)
    for headline in HEADLINES[task]:
        key = headline.key.format(memory=run)
        a = np.array([lookup(results[s][f"{task}-{run}"], key) for s in seeds])
        b = np.array([lookup(results[s][f"{task}-{counterpart}"], key) for s in seeds])
        diff = a - b
        better = diff < 0 if headline.better == "lower" else diff > 0
        out[headline.name] = {
            "better": headline.better,
            "per_seed": {str(s): round(float(d), 4) for s, d in zip(seeds, diff, strict=True)},
            **_summary(diff),
            "wins": int(better.sum()),
            "seeds": len(seeds),
            run: _summary(a),
            counterpart: _summary(b),
        }
    return out


def _spread(values: dict) -> str:
    return f"{values['mean']:.4g}" + (f" ± {values['std']:.2g}" if values["std"] is not None else "")


def table(study: dict) -> str:
    """Markdown: one row per comparison and headline metric."""
    lines = ["| task | comparison | metric | run (mean ± sd) | counterpart (mean ± sd) | difference per seed | "
             "difference mean ± sd | run better on |", "|---" * 8 + "|"]
    for task, comparisons in study["comparisons"].items():
        for name, metrics in comparisons.items():
            run, counterpart = name.split(" - ")
            for metric, row in metrics.items():
                per_seed = ", ".join(f"{d:+.4g}" for d in row["per_seed"].values())
                lines.append(f"| {task} | {name} | {metric} ({row['better']} is better) | {_spread(row[run])} | "
                             f"{_spread(row[counterpart])} | {per_seed} | {_spread(row)} | "
                             f"{row['wins']} of {row['seeds']} seeds |")
    return "\n".join(lines)
