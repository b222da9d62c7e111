"""How a trained sfm model's depth errs around its own layout: scatter by distance, depth edges, and what a
correction of the layout alone could gain.

usage: ./aign python -m benchmarks.depth_scatter <model dir> [<model dir> ...] [--shards data/shards/vkitti]
                                                 [--out metrics/bench_depth_scatter.json]

The evaluation's `depth_by_region.<band>.log_bias` says how far each distance band sits from the truth on average
(the layout); this says how far the pixels of a band scatter around their image's own band median, which AbsRel
adds to the bias. Per test image, after the evaluation's median scaling: for each band of `DISTANCE_BINS`, the mean
absolute deviation of log(predicted / true depth) from its median over the band; averaged over the images that
have the band. Beside it, the energy of log depth above a 4x4 box blur (the depth edges), over the pixels with
ground truth, for the prediction and the truth. Last, the contrast oracle: the evaluation's AbsRel of each image as
predicted, with its log-depth contrast stretched so that its layout slope is 1, and with the contrast (a factor of
0.5-2 on log depth about its mean) that minimises its AbsRel, chosen with the ground truth. A depth prior that
corrects only the depth's proportions can gain no more than that best contrast gains.
"""

import argparse
import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from pipeline.batches import one_pass
from pipeline.metrics import DISTANCE_BINS, depth_errors, log_depth_slope, scaled_depths
from pipeline.shards import split_urls
from pipeline.tasks.sfm import PLUGIN, collate_pairs

EDGE_BLUR = 4  # pixels of the box blur whose residual counts as edges
MAX_DEPTH = 80.0  # metres, the evaluation's cap
CONTRASTS = np.linspace(0.5, 2.0, 31)  # factors on an image's log-depth contrast that the oracle tries


def band_scatter(pred: np.ndarray, gt: np.ndarray) -> dict[str, float]:
    """One image (H, W) metres: band -> mean |log error - its median over the band|, for the bands it has."""
    p, g, _ = scaled_depths(pred, gt, MAX_DEPTH, median_scaling=True)
    error = np.log(p / g)
    found = {}
    for lo, hi in DISTANCE_BINS:
        band = error[(g >= lo) & (g < hi)]
        if band.size:
            found[f"{lo:g}-{hi:g}m"] = float(np.abs(band - np.median(band)).mean())
    return found


def contrast_oracle(pred: np.ndarray, gt: np.ndarray) -> dict[str, float]:
    """One image (H, W) metres: AbsRel as predicted, with the log-depth contrast that makes the layout slope 1, and
    with the best contrast of CONTRASTS (an oracle: chosen with the truth)."""
    valid = (gt > 0) & (gt < MAX_DEPTH)
    log = np.log(pred.astype(np.float64))
    mean = log[valid].mean()

    def abs_rel(contrast: float) -> float:
        return depth_errors(np.exp(mean + contrast * (log - mean)), gt, MAX_DEPTH)["abs_rel"]

    slope = log_depth_slope(pred[valid], gt[valid])
    return {"as_is": abs_rel(1.0), "slope_1": abs_rel(1.0 / slope) if slope else abs_rel(1.0),
            "best_contrast": min(abs_rel(c) for c in CONTRASTS)}


def edge_energy(depth: torch.Tensor, valid: torch.Tensor) -> float:
    """Mean squared residual of log depth (B, 1, H, W) after a 4x4 box blur, over the `valid` pixels."""
    log = depth.clamp(min=1e-3).log()
    pad = (EDGE_BLUR // 2, (EDGE_BLUR - 1) // 2) * 2
    blurred = F.avg_pool2d(F.pad(log, pad, mode="replicate"), EDGE_BLUR, stride=1)
    return float((log - blurred).pow(2)[valid].mean())


def measure(model_dir: Path, shards: Path) -> dict:
    task, generator, _ = PLUGIN.load_trained(model_dir)
    scatter: dict[str, list[float]] = {}
    oracle: dict[str, list[float]] = {}
    edges, truth_edges = [], []
    with torch.no_grad():
        for batch in one_pass(split_urls(shards, "test"), 32, collate_pairs):
            pred, gt = task.predict(generator, batch)["depth"], batch["depth"]
            for i in range(len(gt)):
                for band, value in band_scatter(pred[i, 0].numpy(), gt[i, 0].numpy()).items():
                    scatter.setdefault(band, []).append(value)
                for name, value in contrast_oracle(pred[i, 0].numpy(), gt[i, 0].numpy()).items():
                    oracle.setdefault(name, []).append(value)
            valid = (gt > 0) & (gt < MAX_DEPTH)
            edges.append(edge_energy(pred, valid))
            truth_edges.append(edge_energy(torch.where(gt > 0, gt, MAX_DEPTH).clamp(max=MAX_DEPTH), valid))
    return {"model": str(model_dir), "scatter": {band: round(float(np.mean(v)), 4) for band, v in scatter.items()},
            "edge_energy": round(float(np.mean(edges)), 5), "truth_edge_energy": round(float(np.mean(truth_edges)), 5),
            "abs_rel_contrast_oracle": {name: round(float(np.mean(v)), 4) for name, v in oracle.items()}}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", type=Path, nargs="+")
    parser.add_argument("--shards", type=Path, default=Path("data/shards/vkitti"))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    results = [measure(model, args.shards) for model in args.models]
    for r in results:
        print(f"{r['model']}: scatter " + ", ".join(f"{band} {v:.3f}" for band, v in r["scatter"].items())
              + f"; edge energy {r['edge_energy']:.4f} (truth {r['truth_edge_energy']:.4f}); AbsRel "
              + ", ".join(f"{name} {v:.4f}" for name, v in r["abs_rel_contrast_oracle"].items()))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
