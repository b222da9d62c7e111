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


SFM_COLUMNS = (("depth", "abs_rel", "AbsRel"), ("depth", "sq_rel", "SqRel"), ("depth", "rmse", "RMSE"),
               ("depth", "rmse_log", "RMSE log"), ("depth", "a1", "d<1.25"), ("depth", "a2", "d<1.25^2"),
               ("depth", "a3", "d<1.25^3"), ("motion", "rotation_error_deg", "rot. err (deg)"),
               ("motion", "translation_direction_error_deg", "transl. dir. err (deg)"),
               ("motion", "ate_rmse_m", "ATE 5-frame (m)"))


def sfm_table(results: dict[str, dict]) -> str:
    lines = ["| method | " + " | ".join(title for _, _, title in SFM_COLUMNS) + " |",
             "|---" * (len(SFM_COLUMNS) + 1) + "|"]
    for name, r in results.items():
        lines.append(f"| {name} | " + " | ".join(f"{r[group][key]:.3f}" if r[group][key] is not None else "-"
                                                 for group, key, _ in SFM_COLUMNS) + " |")
    return "\n".join(lines)


def comparisons(pose: dict[str, dict], sfm: dict[str, dict]) -> dict:
    """Ratios the paper's claims rest on: AIGN against the renderer-only baseline and the supervised bound."""
    out = {}
    for a, b in (("pose-aign", "pose-recon_only"), ("pose-aign", "pose-supervised")):
        if a in pose and b in pose:
            out[f"{a}/{b}"] = {m: round(pose[a]["average"][m] / pose[b]["average"][m], 3) for m in METRIC_NAMES}
    for a, b in (("sfm-aign", "sfm-recon_only"), ("sfm-aign", "sfm-supervised")):
        if a in sfm and b in sfm:
            out[f"{a}/{b}"] = {k: round(sfm[a]["depth"][k] / max(sfm[b]["depth"][k], 1e-12), 3)
                               for k in ("abs_rel", "rmse")}
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
    pose = {k: v for k, v in results.items() if k.startswith("pose-")}
    sfm = {k: v for k, v in results.items() if k.startswith("sfm-")}
    synthetic = any(r.get("synthetic") for r in results.values())
    label = " (synthetic data)" if synthetic else ""

    summary = {
        "synthetic": synthetic,
        "experiments": {name: {"average": r["average"], "overall": r["overall"]} for name, r in pose.items()}
        | {name: {"depth": r["depth"], "motion": r["motion"]} for name, r in sfm.items()},
        "comparisons": comparisons(pose, sfm),
    }
    markdown = [f"# AIGN results{label}", ""]
    if pose:
        markdown += ["3D human pose, test subjects; millimetres, lower is better. `average` is the mean over "
                     "actions.", ""]
        for metric, title in METRIC_NAMES.items():
            markdown += [f"## Pose {title}{label}", "", pose_table(pose, metric), ""]
    if sfm:
        markdown += [f"## Structure from motion{label}", "", "Virtual KITTI test worlds; depth capped at 80 m, "
                     "monocular variants median-scaled per image; d<1.25^k: higher is better, the rest lower.", "",
                     sfm_table(sfm), ""]
    if summary["comparisons"]:
        markdown += ["## Ratios", "", "| comparison | ratios of the metrics |", "|---|---|"]
        for name, ratios in summary["comparisons"].items():
            markdown.append(f"| {name} | " + " | ".join(f"{k} {v:.3f}" for k, v in ratios.items()) + " |")
        markdown.append("")
    actions = sorted({a for r in pose.values() for a in r["per_action"]})
    with atomic_outputs(args.summary, args.table, args.figure) as (summary_path, table_path, figure_path):
        write_json(summary_path, summary)
        table_path.write_text("\n".join(markdown))
        grouped_bars(figure_path, actions + ["average"],
                     {name: [r["per_action"][a]["p_mpjpe"] for a in actions] + [r["average"]["p_mpjpe"]]
                      for name, r in pose.items()},
                     "P-MPJPE (mm)", f"3D pose error per action{label}")
    print(args.table.read_text())


if __name__ == "__main__":
    main()
