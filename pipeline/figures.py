"""Figures written as PNG (offline: no vega, no browser): skeletons, training curves, summary bars."""

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from pipeline.skeleton import LEFT_17, PARENTS_17  # noqa: E402


def _draw(ax, pose: np.ndarray, axes: tuple[int, int], colour: str, label: str | None) -> None:
    for joint, parent in enumerate(PARENTS_17):
        if parent < 0:
            continue
        style = "-" if joint not in LEFT_17 else "--"
        ax.plot(pose[[parent, joint], axes[0]], pose[[parent, joint], axes[1]], style, color=colour, lw=2,
                label=label if joint == 1 else None)


def skeleton_grid(path: Path, predictions: np.ndarray, truths: np.ndarray, titles: list[str]) -> None:
    """Predicted (red) and ground-truth (black) root-relative poses (N, 17, 3) mm, from the camera and the side."""
    n = len(predictions)
    fig, axes = plt.subplots(2, n, figsize=(2.6 * n, 5.4), squeeze=False)
    for i in range(n):
        for row, (view, name) in enumerate((((0, 1), "camera view (x, y)"), ((2, 1), "side view (z, y)"))):
            ax = axes[row, i]
            _draw(ax, truths[i], view, "black", "ground truth")
            _draw(ax, predictions[i], view, "tab:red", "prediction")
            ax.set_aspect("equal")
            ax.invert_yaxis()  # camera y points down
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(titles[i], fontsize=8)
            if i == 0:
                ax.set_ylabel(name, fontsize=8)
    axes[0, 0].legend(fontsize=7, loc="lower left")
    fig.suptitle("dashed: left limbs", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def training_curves(path: Path, live_dir: Path, title: str, log_every: int = 1) -> None:
    """Every loss logged by dvclive under `live_dir/plots/metrics/train/`, one panel each; dvclive counts logging
    steps, `log_every` turns them back into training steps."""
    files = sorted((live_dir / "plots" / "metrics" / "train").glob("*.tsv"))
    fig, axes = plt.subplots(1, max(len(files), 1), figsize=(3.2 * max(len(files), 1), 2.8), squeeze=False)
    for ax, file in zip(axes[0], files, strict=False):
        with open(file) as f:
            rows = list(csv.DictReader(f, delimiter="\t"))
        key = file.stem
        ax.plot([(int(r["step"]) + 1) * log_every for r in rows], [float(r[key]) for r in rows])
        ax.set_title(key, fontsize=9)
        ax.set_xlabel("training step", fontsize=8)
        ax.tick_params(labelsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def grouped_bars(path: Path, groups: list[str], series: dict[str, list[float]], ylabel: str, title: str, *,
                 log: bool = False) -> None:
    """Bars per group (e.g. actions) for each series (e.g. methods); `log` for a logarithmic value axis."""
    grouped_bar_panels(path, groups, {ylabel: series}, title, log=log)


def grouped_bar_panels(path: Path, groups: list[str], panels: dict[str, dict[str, list[float]]], title: str, *,
                       log: bool = False) -> None:
    """`grouped_bars` stacked: one panel per value axis label (`panels`: ylabel -> series), the same groups."""
    fig, axes = plt.subplots(len(panels), 1, figsize=(max(6, 1.1 * len(groups)) + 1.8, 0.4 + 3.2 * len(panels)),
                             squeeze=False)
    x = np.arange(len(groups))
    for ax, (ylabel, series) in zip(axes[:, 0], panels.items(), strict=True):
        width = 0.8 / max(len(series), 1)
        for i, (name, values) in enumerate(series.items()):
            ax.bar(x + (i - (len(series) - 1) / 2) * width, values, width, label=name)
        ax.axhline(0.0, color="0.3", lw=0.8)
        ax.set_xticks(x, groups, rotation=30, ha="right", fontsize=8)
        if log:
            ax.set_yscale("log")
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # beside the bars, never over them
    axes[0, 0].set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def depth_grid(path: Path, images: np.ndarray, pred: np.ndarray, gt: np.ndarray, titles: list[str], *,
               median_scaling: bool, max_depth: float) -> None:
    """Rows of: input frame (B, 3, H, W) BGR in [0, 1], predicted depth, ground-truth depth, absolute error (m)."""
    n = len(images)
    fig, axes = plt.subplots(n, 4, figsize=(13, 1.3 * n + 0.6), squeeze=False)
    for i in range(n):
        valid = (gt[i] > 0) & (gt[i] < max_depth)
        depth = pred[i] * (np.median(gt[i][valid]) / np.median(pred[i][valid]) if median_scaling else 1.0)
        error = np.where(valid, np.abs(depth - gt[i]), np.nan)
        panels = [(images[i][::-1].transpose(1, 2, 0), None, titles[i]),  # BGR -> RGB
                  (np.clip(depth, 0, max_depth), "magma_r", "prediction (m)"),
                  (np.where(gt[i] > 0, np.clip(gt[i], 0, max_depth), np.nan), "magma_r", "ground truth (m)"),
                  (error, "viridis", "|error| (m)")]
        for ax, (image, cmap, title) in zip(axes[i], panels, strict=True):
            shown = ax.imshow(image, cmap=cmap, vmin=0 if cmap else None, vmax=(max_depth if cmap == "magma_r"
                                                                                else None))
            ax.set_title(title, fontsize=7)
            ax.axis("off")
            if cmap:
                fig.colorbar(shown, ax=ax, fraction=0.025)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def face_grid(path: Path, rows: dict[str, np.ndarray], title: str) -> None:
    """One row per entry of `rows` (label -> (N, s, s, 3) uint8 BGR faces), the same faces in every column; smaller
    faces (a low-resolution input) are shown enlarged to the largest size, pixel for pixel."""
    n = len(next(iter(rows.values())))
    size = max(faces.shape[1] for faces in rows.values())
    rows = {label: faces.repeat(size // faces.shape[1], 1).repeat(size // faces.shape[2], 2)
            for label, faces in rows.items()}
    fig, axes = plt.subplots(len(rows), n, figsize=(1.1 * n + 1.2, 1.15 * len(rows) + 0.4), squeeze=False)
    for r, (label, faces) in enumerate(rows.items()):
        for i in range(n):
            ax = axes[r, i]
            ax.imshow(faces[i][..., ::-1], interpolation="nearest")  # BGR -> RGB
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_ylabel(label, fontsize=8, rotation=0, ha="right", va="center")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def paired_differences(path: Path, panels: dict[str, dict], title: str) -> None:
    """One panel per comparison metric (`panels`: label -> a row of `seed_study.compare`): the paired difference of
    each seed as a dot, their mean with a one-standard-deviation bar, and zero (no effect) as a line. The panel's
    title says which side of zero is better for the run."""
    cols = min(4, len(panels))
    rows = -(-len(panels) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols + 0.4, 2.5 * rows + 0.5), squeeze=False)
    for ax, (label, row) in zip(axes.flat, panels.items(), strict=False):
        diffs = list(row["per_seed"].values())
        ax.axhline(0.0, color="0.6", lw=1)
        ax.scatter(np.zeros(len(diffs)) + np.linspace(-0.08, 0.08, len(diffs)), diffs, s=18, color="tab:blue",
                   zorder=3)
        ax.errorbar([0.3], [row["mean"]], yerr=[row["std"] or 0.0], fmt="D", color="tab:red", capsize=4)
        ax.set_xlim(-0.4, 0.6)
        ax.set_xticks([])
        wanted = "below" if row["better"] == "lower" else "above"
        ax.set_title(f"{label}\n(better {wanted} 0; {row['wins']}/{row['seeds']} seeds)", fontsize=8)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def trajectory_plot(path: Path, trajectories: dict[str, tuple[np.ndarray, np.ndarray]], title: str) -> None:
    """Top views (x right, z forward, metres) of predicted and true camera paths, one panel per sequence:
    {sequence: (predicted positions (N, 3), true positions (N, 3))}."""
    fig, axes = plt.subplots(1, len(trajectories), figsize=(4.5 * len(trajectories), 4.5), squeeze=False)
    for ax, (name, (predicted, true)) in zip(axes[0], trajectories.items(), strict=True):
        ax.plot(true[:, 0], true[:, 2], color="black", label="ground truth")
        ax.plot(predicted[:, 0], predicted[:, 2], color="tab:red", label="predicted, aligned by a similarity")
        ax.plot(*true[0, [0, 2]], "o", color="black")
        ax.set_title(f"sequence {name}", fontsize=9)
        ax.set_xlabel("x (m)")
        ax.set_ylabel("z (m)")
        ax.set_aspect("equal", adjustable="datalim")
        ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
