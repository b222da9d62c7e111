"""DVC stage report: every experiment's metrics side by side (JSON, a markdown table, a figure).

usage: python -m stages.report <summary json> <table md> <figure png> <experiment metrics json>...
"""

import argparse
import json
from pathlib import Path

from pipeline.atomic import atomic_outputs, write_json
from pipeline.figures import grouped_bars
from stages.common import stage_main

METRIC_NAMES = {"mpjpe": "MPJPE", "p_mpjpe": "P-MPJPE", "n_mpjpe": "N-MPJPE"}


def pose_table(results: dict[str, dict], metric: str) -> str:
    """The paper's table shape: rows = methods, columns = actions + average (mm)."""
    actions = sorted({a for r in results.values() for a in r["per_action"]})
    lines = ["| method | " + " | ".join(actions) + " | average |", "|---" * (len(actions) + 2) + "|"]
    for name, r in results.items():
        cells = [f"{r['per_action'][a][metric]:.1f}" if a in r["per_action"] else "-" for a in actions]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | **{r['average'][metric]:.1f}** |")
    return "\n".join(lines)


def comparisons(results: dict[str, dict]) -> dict:
    """Ratios the paper's claims rest on: AIGN against the renderer-only baseline and the supervised bound."""
    out = {}
    pairs = (("pose-aign", "pose-recon_only"), ("pose-aign", "pose-supervised"))
    for a, b in pairs:
        if a in results and b in results:
            out[f"{a}/{b}"] = {m: round(results[a]["average"][m] / results[b]["average"][m], 3) for m in METRIC_NAMES}
    return out


@stage_main
def main(argv):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("summary", type=Path)
    parser.add_argument("table", type=Path)
    parser.add_argument("figure", type=Path)
    parser.add_argument("metrics", type=Path, nargs="+")
    args = parser.parse_args(argv)
    results = {}
    for path in args.metrics:
        data = json.loads(path.read_text())
        results[data["experiment"]] = data
    synthetic = any(r.get("synthetic") for r in results.values())
    label = " (synthetic data)" if synthetic else ""

    summary = {
        "synthetic": synthetic,
        "experiments": {name: {"average": r["average"], "overall": r["overall"]} for name, r in results.items()},
        "comparisons": comparisons(results),
    }
    markdown = [f"# AIGN results{label}", "", "3D human pose, test subjects; millimetres, lower is better. "
                "`average` is the mean over actions.", ""]
    for metric, title in METRIC_NAMES.items():
        markdown += [f"## {title}{label}", "", pose_table(results, metric), ""]
    if summary["comparisons"]:
        markdown += ["## Ratios (average over actions)", "", "| comparison | " + " | ".join(METRIC_NAMES.values())
                     + " |", "|---" * (len(METRIC_NAMES) + 1) + "|"]
        for name, ratios in summary["comparisons"].items():
            markdown.append(f"| {name} | " + " | ".join(f"{ratios[m]:.3f}" for m in METRIC_NAMES) + " |")
        markdown.append("")
    actions = sorted({a for r in results.values() for a in r["per_action"]})
    with atomic_outputs(args.summary, args.table, args.figure) as (summary_path, table_path, figure_path):
        write_json(summary_path, summary)
        table_path.write_text("\n".join(markdown))
        grouped_bars(figure_path, actions + ["average"],
                     {name: [r["per_action"][a]["p_mpjpe"] for a in actions] + [r["average"]["p_mpjpe"]]
                      for name, r in results.items()},
                     "P-MPJPE (mm)", f"3D pose error per action{label}")
    print(args.table.read_text())


if __name__ == "__main__":
    main()
