"""DVC stage evaluate_egomotion@<variant>: the trained sfm model's camera motion on KITTI odometry sequences.

usage: python -m stages.evaluate_egomotion <variant> <model dir> <metrics json> <plots dir>

Reads the sequences `kitti_odometry.sequences` of `kitti_odometry.root` (real KITTI odometry, or the stand-in drive
the synthesize_kitti_odometry stage writes in the official layout), resizes every frame to the model's input size
(area averaging, as the prepare stage does), and predicts the motion of each consecutive pair. ATE follows SfMLearner
(Zhou et al. 2017): every snippet of `snippet` frames chains its predicted motions, one least-squares scale puts the
snippet on the ground truth's, and the error is the rmse of the camera positions; reported as mean and standard
deviation over snippets, per sequence and over all, next to the distance the ground truth travels in a snippet.
The figure chains each whole sequence, aligned to the ground truth with one similarity transform.
"""

import argparse
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from pipeline.atomic import atomic_outputs, write_json
from pipeline.datasets.images import read_image
from pipeline.datasets.kitti_odometry import odometry_sequence
from pipeline.errors import DataError, ParamsError
from pipeline.figures import trajectory_plot
from pipeline.metrics import chain, snippet_ate, umeyama
from pipeline.progress import StageProgress
from pipeline.synthetic import is_synthetic
from pipeline.tasks.sfm import PLUGIN
from stages.common import load_params, stage_main


@dataclass
class KittiOdometry:
    """params.yaml kitti_odometry."""

    root: str
    sequences: list[str]
    camera: int = 2  # image_<camera> and P<camera> of calib.txt
    snippet: int = 5  # frames per ATE snippet

    def check(self, where: str) -> None:
        if not self.sequences:
            raise ParamsError(f"param {where}.sequences: empty, expected at least one sequence name")
        if self.snippet < 2:
            raise ParamsError(f"param {where}.snippet: found {self.snippet}, expected 2 or more frames")


def predicted_motions(generator, images: list[Path], size: tuple[int, int], progress) -> np.ndarray:
    """(N-1, 4, 4) motions taking camera-k points into camera k+1, one per consecutive pair of frames."""
    motions, previous = [], None
    for path in images:
        frame = cv2.resize(read_image(path), size, interpolation=cv2.INTER_AREA)
        frame = torch.from_numpy(frame).permute(2, 0, 1)[None].float() / 255.0
        if previous is not None:
            with torch.no_grad():
                rotation, translation = generator.motion(previous, frame)
            motion = np.eye(4)
            motion[:3, :3], motion[:3, 3] = rotation[0].double().numpy(), translation[0].double().numpy()
            motions.append(motion)
        previous = frame
        progress.step()
    return np.stack(motions)


def snippet_errors(predicted: np.ndarray, true: np.ndarray, snippet: int) -> tuple[list[float], list[float]]:
    """ATE (m) of every snippet of `snippet` frames (`snippet` - 1 motions) of one sequence, and the distance the
    ground truth travels in each."""
    ates, lengths = [], []
    for start in range(len(true) - snippet + 2):
        window = slice(start, start + snippet - 1)
        ates.append(snippet_ate(predicted[window], true[window]))
        lengths.append(np.linalg.norm(np.diff(chain(true[window])[:, :3, 3], axis=0), axis=1).sum())
    return ates, lengths


def _stats(ates: list[float]) -> dict:
    return {"ate_mean_m": round(float(np.mean(ates)), 4), "ate_std_m": round(float(np.std(ates)), 4),
            "snippets": len(ates)}


def aligned_positions(predicted: np.ndarray, true: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Camera positions of the chained sequence, the prediction mapped onto the truth by a similarity transform."""
    p, g = chain(predicted)[:, :3, 3], chain(true)[:, :3, 3]
    scale, rotation, shift = umeyama(p, g, with_scale=True)
    return scale * p @ rotation.T + shift, g


@stage_main
def main(argv):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("variant")
    for name in ("model", "metrics", "plots"):
        parser.add_argument(name, type=Path)
    args = parser.parse_args(argv)
    cfg = load_params("kitti_odometry", KittiOdometry)
    _, generator, info = PLUGIN.load_trained(args.model)
    size = tuple(info["input_size"])

    sequences = [odometry_sequence(cfg.root, name, cfg.camera) for name in cfg.sequences]
    for seq in sequences:
        if seq.poses is None:
            raise DataError(f"{cfg.root}: sequence {seq.name} has no poses/{seq.name}.txt; ATE needs ground truth "
                            f"(KITTI publishes it for sequences 00-10)")
        if len(seq.images) < cfg.snippet:
            raise DataError(f"{cfg.root}: sequence {seq.name} has {len(seq.images)} frames, expected at least "
                            f"kitti_odometry.snippet ({cfg.snippet})")
    experiment = f"sfm-{args.variant}"
    results, trajectories, all_ates = {}, {}, []
    with StageProgress(f"evaluate_egomotion@{args.variant}", sum(len(s.images) for s in sequences)) as progress:
        for seq in sequences:
            predicted = predicted_motions(generator, seq.images, size, progress)
            true = np.stack([np.linalg.inv(seq.poses[k + 1]) @ seq.poses[k] for k in range(len(seq.poses) - 1)])
            ates, lengths = snippet_errors(predicted, true, cfg.snippet)
            results[seq.name] = _stats(ates) | {"gt_snippet_length_m": round(float(np.mean(lengths)), 3),
                                                "frames": len(seq.images)}
            all_ates += ates
            trajectories[seq.name] = aligned_positions(predicted, true)
    summary = {"experiment": experiment, "synthetic": is_synthetic(cfg.root), "snippet": cfg.snippet,
               **_stats(all_ates), "sequences": results}
    with atomic_outputs(args.metrics, args.plots) as (metrics, plots):
        write_json(metrics, summary)
        plots.mkdir()
        trajectory_plot(plots / "trajectory.png", trajectories, f"{experiment}: camera path on KITTI odometry")
    print(f"evaluate_egomotion@{args.variant}: ATE {summary['ate_mean_m']} +- {summary['ate_std_m']} m over "
          f"{len(all_ates)} snippets of {cfg.snippet} frames")


if __name__ == "__main__":
    main()
