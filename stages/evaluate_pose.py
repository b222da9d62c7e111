"""DVC stage evaluate_pose@<variant>: MPJPE, P-MPJPE and N-MPJPE on the test subjects, overall and per action.

usage: python -m stages.evaluate_pose <variant> <h36m shards> <basis .npz> <model dir> <dvclive dir> <metrics json>
       <plots dir>
"""

import argparse
from pathlib import Path

import numpy as np
import torch

from pipeline.atomic import atomic_outputs, write_json
from pipeline.batches import one_pass
from pipeline.figures import skeleton_grid, training_curves
from pipeline.metrics import PoseErrorTable
from pipeline.shards import read_manifest, split_urls
from pipeline.tasks.pose import PLUGIN, collate_inputs
from stages.common import stage_main

FIGURE_SAMPLES = 6


@stage_main
def main(argv):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("variant")
    for name in ("shards", "basis", "model", "live", "metrics", "plots"):
        parser.add_argument(name, type=Path)
    args = parser.parse_args(argv)
    task, generator, info = PLUGIN.load_trained(args.model, {"basis": args.basis})

    table, shown = PoseErrorTable(), {}
    with torch.no_grad():
        for batch in one_pass(split_urls(args.shards, "test"), 256, collate_inputs):
            pred = task.predict(generator, batch).pose.numpy()
            gt = batch["pose3d"].numpy()
            table.update(pred, gt, batch["actions"])
            for i, action in enumerate(batch["actions"]):  # the first test sample of each action, for the figure
                if action not in shown and len(shown) < FIGURE_SAMPLES:
                    shown[action] = (pred[i], gt[i] - gt[i, :1], batch["keys"][i])
    result = table.summary()
    figure = [np.stack([v[0] for v in shown.values()]), np.stack([v[1] for v in shown.values()]),
              [v[2] for v in shown.values()]]
    experiment = f"pose-{args.variant}"
    with atomic_outputs(args.metrics, args.plots) as (metrics, plots):
        write_json(metrics, {"experiment": experiment, "synthetic": read_manifest(args.shards)["synthetic"],
                             **result})
        plots.mkdir()
        skeleton_grid(plots / "skeletons.png", *figure)
        training_curves(plots / "training.png", args.live, f"{experiment} training losses", info["log_every"])
    overall = result["overall"]
    print(f"evaluate_{experiment}: MPJPE {overall['mpjpe']:.1f} mm, P-MPJPE {overall['p_mpjpe']:.1f} mm, "
          f"N-MPJPE {overall['n_mpjpe']:.1f} mm on {result['samples']} test samples")


if __name__ == "__main__":
    main()
