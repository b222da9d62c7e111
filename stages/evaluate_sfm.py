"""DVC stage evaluate_sfm@<variant>: depth metrics (also by distance, and for pixels that leave the second frame),
motion errors and 5-frame ATE on the test worlds, plus figures.

usage: python -m stages.evaluate_sfm <variant> <vkitti shards> <model dir> <dvclive dir> <metrics json> <plots dir>

Monocular variants (recon_only, aign) know depth only up to scale: each image's prediction is scaled by
median(gt) / median(pred) first (sfm.eval.median_scaling); the supervised variant is evaluated as predicted.
"""

import argparse
from dataclasses import dataclass
from pathlib import Path

import torch

from pipeline.atomic import atomic_outputs, write_json
from pipeline.batches import one_pass
from pipeline.figures import depth_grid, training_curves
from pipeline.metrics import SfmErrorTable
from pipeline.render.warp import landing
from pipeline.shards import read_manifest, split_urls
from pipeline.tasks.sfm import PLUGIN, collate_pairs
from stages.common import load_params, stage_main

FIGURE_PAIRS = 4


@dataclass
class SfmEval:
    max_depth: float = 80.0  # metres: ground truth beyond is ignored, predictions are clipped to it
    median_scaling: bool = True  # for the monocular variants
    snippet: int = 5  # frames per ATE snippet


@stage_main
def main(argv):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("variant")
    for name in ("shards", "model", "live", "metrics", "plots"):
        parser.add_argument(name, type=Path)
    args = parser.parse_args(argv)
    cfg = load_params("sfm.eval", SfmEval)
    task, generator, info = PLUGIN.load_trained(args.model)

    table = SfmErrorTable(cfg.max_depth, cfg.median_scaling and args.variant != "supervised", cfg.snippet)
    shown = None
    with torch.no_grad():
        for batch in one_pass(split_urls(args.shards, "test"), 32, collate_pairs):
            pred = task.predict(generator, batch)
            motion = torch.eye(4).repeat(len(batch["keys"]), 1, 1)
            motion[:, :3, :3], motion[:, :3, 3] = pred["rotation"], pred["translation"]
            _, in_view = landing(batch["depth"], batch["motion"][:, :3, :3], batch["motion"][:, :3, 3],
                                 batch["intrinsics"])
            table.update(pred["depth"][:, 0].numpy(), batch["depth"][:, 0].numpy(), motion.double().numpy(),
                         batch["motion"].double().numpy(), batch["meta"], in_view[:, 0].numpy())
            if shown is None:
                step = max(len(batch["keys"]) // FIGURE_PAIRS, 1)
                pick = slice(0, step * FIGURE_PAIRS, step)
                shown = (batch["image1"][pick], pred["depth"][pick, 0], batch["depth"][pick, 0], batch["keys"][pick])
    result = table.summary()
    experiment = f"sfm-{args.variant}"
    with atomic_outputs(args.metrics, args.plots) as (metrics, plots):
        write_json(metrics, {"experiment": experiment, "synthetic": read_manifest(args.shards)["synthetic"],
                             **result})
        plots.mkdir()
        depth_grid(plots / "depth.png", *(x.numpy() if hasattr(x, "numpy") else x for x in shown),
                   median_scaling=table.median_scaling, max_depth=cfg.max_depth)
        training_curves(plots / "training.png", args.live, f"{experiment} training losses", info["log_every"])
    d, m = result["depth"], result["motion"]
    print(f"evaluate_{experiment}: AbsRel {d['abs_rel']:.3f}, RMSE {d['rmse']:.2f} m, delta<1.25 {d['a1']:.3f}, "
          f"rotation {m['rotation_error_deg']:.3f} deg, ATE {m['ate_rmse_m']} m on {result['samples']} pairs")


if __name__ == "__main__":
    main()
