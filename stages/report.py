"""DVC stage report: every experiment's metrics side by side (JSON, a markdown table, a figure).

usage: python -m stages.report <evaluation metrics dir> <egomotion metrics dir> <samples dir>
                               <classifier metrics json> <summary json> <results md> <pose figure png>
                               <sfm figure png> <sr grid png> <inpaint grid png>

The experiments are those params lists (experiments.*): `<task>-<name>.json` of the metrics folder for each, and for
the face tasks `<task>-<name>.npz` of the samples folder; the grids show the same test faces as input, the output
of every memory set, and the ground truth.
"""

import argparse
import json
import os
from pathlib import Path

import numpy as np

from pipeline.atomic import atomic_outputs, write_json
from pipeline.errors import DataError, ParamsError
from pipeline.figures import face_grid, grouped_bar_panels, grouped_bars
from pipeline.memory_sets import memory_pairs
from pipeline.prepare.celeba import PrepareCeleba
from stages.common import load_experiments, load_params, stage_main

FACE_TASKS = {"sr": "Face super-resolution", "inpaint": "Face inpainting"}


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
               ("motion", "ate_rmse_m", "ATE 5-frame (m)"), ("layout", "log_slope", "log-depth slope"),
               ("layout", "scale_drift", "scale drift"))
REGION_FORMATS = {"abs_rel": ".3f", "log_bias": "+.3f"}  # the region metrics the report shows


def sfm_table(results: dict[str, dict]) -> str:
    lines = ["| method | " + " | ".join(title for _, _, title in SFM_COLUMNS) + " |",
             "|---" * (len(SFM_COLUMNS) + 1) + "|"]
    for name, r in results.items():
        lines.append(f"| {name} | " + " | ".join(f"{r[group][key]:.3f}" if r[group][key] is not None else "-"
                                                 for group, key, _ in SFM_COLUMNS) + " |")
    return "\n".join(lines)


def sfm_region_table(results: dict[str, dict], metric: str) -> str:
    """A region metric (`REGION_FORMATS`) by ground-truth distance and by whether a pixel stays in view of the
    second frame."""
    regions = list(next(iter(results.values()))["depth_by_region"])
    shares = next(iter(results.values()))["depth_by_region"]
    lines = ["| method | " + " | ".join(f"{name} ({shares[name]['pixel_share']:.0%} of pixels)" for name in regions)
             + " |", "|---" * (len(regions) + 1) + "|"]
    for name, r in results.items():
        lines.append(f"| {name} | " + " | ".join(f"{r['depth_by_region'][region][metric]:{REGION_FORMATS[metric]}}"
                                                 if r["depth_by_region"][region][metric] is not None else "-"
                                                 for region in regions) + " |")
    return "\n".join(lines)


def egomotion_table(results: dict[str, dict]) -> str:
    sequences = list(next(iter(results.values()))["sequences"])
    lines = ["| method | " + " | ".join(f"sequence {s}" for s in sequences) + " | all |",
             "|---" * (len(sequences) + 2) + "|"]
    for name, r in results.items():
        cells = [f"{r['sequences'][s]['ate_mean_m']:.4f} ± {r['sequences'][s]['ate_std_m']:.4f}" for s in sequences]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {r['ate_mean_m']:.4f} ± {r['ate_std_m']:.4f} |")
    travelled = ", ".join(f"{s}: {r['gt_snippet_length_m']:.2f} m" for s, r in
                          next(iter(results.values()))["sequences"].items())
    return "\n".join(lines) + f"\n\nDistance the ground truth travels in a snippet, on average: {travelled}."


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


def _metrics(folder: Path, experiment: str) -> dict:
    path = folder / f"{experiment}.json"
    if not path.is_file():
        raise DataError(f"{path}: missing, expected the metrics of experiment {experiment} (params experiments lists "
                        "it; run ./aign repro)")
    return json.loads(path.read_text())


def load_faces(metrics_dir: Path, samples_dir: Path, experiments: dict[str, list[str]]) -> dict[str, dict]:
    """task -> memory set -> (metrics, figure samples), for the experiments params lists."""
    faces = {}
    for task in FACE_TASKS:
        faces[task] = {}
        if not experiments.get(task):
            raise ParamsError(f"param experiments.{task}: empty, expected at least one memory set")
        for memory in experiments[task]:
            metrics = _metrics(metrics_dir, f"{task}-{memory}")
            with np.load(samples_dir / f"{task}-{memory}.npz") as samples:
                faces[task][memory] = (metrics, dict(samples))
    return faces


def face_summary(results: dict[str, tuple], memory_sets: dict[str, dict[str, int]]) -> dict:
    """Per memory set: PSNR, SSIM and detail ratio (and the bicubic baseline's); per pair of memory sets with and
    without an attribute: the rate of that attribute on the outputs under each memory, their difference, and the
    same rate on the bicubic outputs and on the ground truth, each output rate with its spread over the attribute
    classifier's members."""
    runs = {}
    for memory, (r, _) in results.items():
        runs[memory] = {k: r[k] for k in ("psnr", "ssim", "detail_ratio")}
        if "bicubic" in r:
            runs[memory]["bicubic"] = r["bicubic"]
    pairs = {}
    for with_, without in memory_pairs(list(results), memory_sets):
        a, b = results[with_][0]["attribute_rate"], results[without][0]["attribute_rate"]
        if with_ not in a["output"]:
            continue  # the classifier does not know the attribute
        pair = {"attribute": next(iter(memory_sets[with_])), "with": with_, "without": without,
                "rate_with": a["output"][with_], "rate_without": b["output"][with_],
                "spread_with": results[with_][0]["attribute_rate_spread"]["output"][with_],
                "spread_without": results[without][0]["attribute_rate_spread"]["output"][with_],
                "difference": round(a["output"][with_] - b["output"][with_], 4), "rate_truth": a["truth"][with_]}
        if "bicubic" in a:
            pair["rate_bicubic"] = a["bicubic"][with_]
        pairs[f"{with_} - {without}"] = pair
    return {"runs": runs, "pairs": pairs}


def face_tables(task: str, summary: dict) -> str:
    region = "inside the hole" if task == "inpaint" else "whole face"
    lines = [f"PSNR (dB) and SSIM {region}; detail ratio = energy of the detail 4x4 pooling destroys, output over "
             "ground truth (1: as detailed as real faces).", "",
             "| memory set | PSNR | SSIM | detail ratio |", "|---|---|---|---|"]
    for memory, row in summary["runs"].items():
        lines.append(f"| {memory} | {row['psnr']:.2f} | {row['ssim']:.3f} | {row['detail_ratio']:.3f} |")
    bicubic = next((row["bicubic"] for row in summary["runs"].values() if "bicubic" in row), None)
    if bicubic:
        lines.append(f"| *bicubic* | {bicubic['psnr']:.2f} | {bicubic['ssim']:.3f} | "
                     f"{bicubic['detail_ratio']:.3f} |")
    if summary["pairs"]:
        lines += ["", "Share of the outputs the attribute classifier labels with the attribute, under the memory "
                  "with it and under the memory without it (the same test faces; mean ± standard deviation over the "
                  "classifier's members):", "",
                  "| attribute | memory with | memory without | difference | bicubic | ground truth |",
                  "|---|---|---|---|---|---|"]
        for pair in summary["pairs"].values():
            bicubic_rate = f"{pair['rate_bicubic']:.3f}" if "rate_bicubic" in pair else "-"
            lines.append(f"| {pair['attribute']} | {pair['rate_with']:.3f} ± {pair['spread_with']:.3f} "
                         f"({pair['with']}) | {pair['rate_without']:.3f} ± {pair['spread_without']:.3f} "
                         f"({pair['without']}) | "
                         f"{pair['difference']:+.3f} | "
                         f"{bicubic_rate} | {pair['rate_truth']:.3f} |")
    return "\n".join(lines)


def face_rows(results: dict[str, tuple]) -> dict[str, np.ndarray]:
    """Grid rows: each input (one per hole), the output of every memory set that saw it, the ground truth (the same
    test faces)."""
    rows, last_input = {}, None
    for memory, (metrics, samples) in results.items():
        if last_input is None or not np.array_equal(samples["input"], last_input):
            last_input = samples["input"]
            rows[f"input, {metrics['hole']} hole" if "hole" in metrics else "input"] = last_input
        rows[f"memory: {memory}"] = samples["output"]
    rows["ground truth"] = next(iter(results.values()))[1]["truth"]
    return rows


@stage_main
def main(argv):
    parser = argparse.ArgumentParser(description=__doc__)
    for name in ("metrics", "egomotion", "samples", "classifier", "summary", "table", "figure", "sfm_figure",
                 "sr_figure", "inpaint_figure"):
        parser.add_argument(name, type=Path)
    args = parser.parse_args(argv)
    experiments = load_experiments()
    memory_sets = load_params("celeba", PrepareCeleba).memory_sets
    faces = load_faces(args.metrics, args.samples, experiments)
    classifier = json.loads(args.classifier.read_text())
    pose = {f"pose-{v}": _metrics(args.metrics, f"pose-{v}") for v in experiments.get("pose", [])}
    sfm = {f"sfm-{v}": _metrics(args.metrics, f"sfm-{v}") for v in experiments.get("sfm", [])}
    egomotion = {f"sfm-{v}": _metrics(args.egomotion, f"sfm-{v}") for v in experiments.get("sfm", [])}
    results = pose | sfm
    synthetic = any(r.get("synthetic") for r in results.values()) or any(
        r.get("synthetic") for task in faces.values() for r, _ in task.values())
    label = " (synthetic data)" if synthetic else ""

    summary = {
        "synthetic": synthetic,
        "experiments": {name: {"average": r["average"], "overall": r["overall"]} for name, r in pose.items()}
        | {name: {"depth": r["depth"], "depth_by_region": r["depth_by_region"], "motion": r["motion"],
                  "egomotion_ate_m": egomotion[name]["ate_mean_m"]} for name, r in sfm.items()},
        "comparisons": comparisons(pose, sfm),
        "faces": {task: face_summary(runs, memory_sets) for task, runs in faces.items()}
        | {"classifier_accuracy": classifier["accuracy"]},
    }
    def figure(path: Path, caption: str) -> str:  # a link from the table's folder to a figure of this report
        return f"![{caption}]({os.path.relpath(path, args.table.parent)})"

    markdown = [f"# AIGN results{label}", "",
                "Written by the `report` stage from `metrics/eval/` (`./aign repro`); the spread of these numbers "
                "over seeds is in [seeds.md](seeds.md) (`./aign repro seeds/dvc.yaml`).", ""]
    if pose:
        markdown += ["3D human pose, test subjects; millimetres, lower is better. `average` is the mean over "
                     "actions.", "", figure(args.figure, "P-MPJPE per action"), ""]
        for metric, title in METRIC_NAMES.items():
            markdown += [f"## Pose {title}{label}", "", pose_table(pose, metric), ""]
    if sfm:
        markdown += [f"## Structure from motion{label}", "", "Virtual KITTI test worlds; depth capped at 80 m, "
                     "monocular variants median-scaled per image; d<1.25^k: higher is better, the rest lower.", "",
                     sfm_table(sfm), "",
                     "The log-depth slope is the least-squares slope of log predicted depth against log true depth "
                     "per image: 1 when near and far are in the right proportion, below 1 when the prediction "
                     "compresses the scene's depth range; the scale drift is its mean distance from 1.", "",
                     "AbsRel by ground-truth distance, and for the pixels whose true 3D point stays in view of the "
                     "second frame (the photometric loss sees them) or leaves it (only a prior can tell their depth):",
                     "", sfm_region_table(sfm, "abs_rel"), "",
                     "The bias in the same regions, the mean of log(predicted / true depth) after median scaling (0: "
                     "unbiased; +0.2: about 22% too far; -0.2: 18% too near):", "", sfm_region_table(sfm, "log_bias"),
                     "", figure(args.sfm_figure, "AbsRel and log bias by distance"), "",
                     f"### Egomotion on KITTI odometry{label}", "",
                     "ATE (m) over 5-frame snippets, SfMLearner's protocol (one scale fitted per snippet), mean ± "
                     "standard deviation over snippets:", "", egomotion_table(egomotion), "",
                     *(figure(Path("plots/egomotion") / name / "trajectory.png", f"{name} camera path")
                       for name in egomotion), ""]
    for task, rows in summary["faces"].items():
        if task in FACE_TASKS:
            markdown += [f"## {FACE_TASKS[task]}{label}", "", face_tables(task, rows), "",
                         figure(getattr(args, f"{task}_figure"), f"{FACE_TASKS[task]}: output per memory set"), ""]
    markdown += ["Attribute classifier, test accuracy: " + ", ".join(
        f"{a} {v:.3f}" for a, v in classifier["accuracy"].items()), ""]
    if summary["comparisons"]:
        markdown += ["## Ratios", "", "| comparison | ratios of the metrics |", "|---|---|"]
        for name, ratios in summary["comparisons"].items():
            markdown.append(f"| {name} | " + " | ".join(f"{k} {v:.3f}" for k, v in ratios.items()) + " |")
        markdown.append("")
    actions = sorted({a for r in pose.values() for a in r["per_action"]})
    outputs = (args.summary, args.table, args.figure, args.sfm_figure, args.sr_figure, args.inpaint_figure)
    with atomic_outputs(*outputs) as (summary_path, table_path, figure_path, sfm_path, sr_path, inpaint_path):
        write_json(summary_path, summary)
        for task, path in (("sr", sr_path), ("inpaint", inpaint_path)):
            face_grid(path, face_rows(faces[task]), f"{FACE_TASKS[task]}: output per memory set{label}")
        table_path.write_text("\n".join(markdown))
        grouped_bars(figure_path, actions + ["average"],
                     {name: [r["per_action"][a]["p_mpjpe"] for a in actions] + [r["average"]["p_mpjpe"]]
                      for name, r in pose.items()},
                     "P-MPJPE (mm)", f"3D pose error per action{label}")
        regions = list(next(iter(sfm.values()))["depth_by_region"])
        grouped_bar_panels(sfm_path, regions, {
            title: {name: [r["depth_by_region"][g][metric] or 0.0 for g in regions] for name, r in sfm.items()}
            for metric, title in (("abs_rel", "AbsRel"), ("log_bias", "log bias"))}, f"Depth error by region{label}")
    print(args.table.read_text())


if __name__ == "__main__":
    main()
