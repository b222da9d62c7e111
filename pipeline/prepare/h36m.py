"""Human3.6M -> shards: per frame and camera, 17-joint 2D keypoints, a square person crop and Gaussian heatmaps.

Splits by subject: `inputs` (heatmaps reach the model; ground truth travels along for evaluation and the supervised
baseline only), `memory` (3D poses only, for the discriminator) and `test`.

Sample fields (key `S9-Walking_1-cam2-000120`):
  heatmaps.png   (17*S, S) uint8: the 17 heatmaps stacked vertically (see render.heatmaps), inputs and test only
  keypoints.npy  (17, 2) float32: distorted pixel coordinates in the full image, inputs and test only
  crop.npy       (3,) float32: x0, y0, side of the square crop in pixels, inputs and test only
  camera.npy     (9,) float32: fx, fy, cx, cy, k1, k2, k3, p1, p2
  pose3d.npy     (17, 3) float32: the pose in the camera frame, millimetres
  meta.json      subject, action, sequence, camera, frame
"""

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from pipeline.datasets.h36m import SUBJECTS, Camera, Sequence
from pipeline.errors import ParamsError
from pipeline.geometry import distort_project
from pipeline.parallel import ordered_map
from pipeline.prepare import SPLITS, Splits
from pipeline.render.heatmaps import gaussian_heatmaps, to_uint8_tiles
from pipeline.shards import encode_sample
from pipeline.skeleton import JOINTS_17
from pipeline.stats import RunningStats


class H36mSplits(Splits):
    known = SUBJECTS
    memory_may_share_inputs = True


@dataclass
class PrepareH36m:
    root: str
    layout: Literal["3d-pose-baseline", "videopose3d"]
    splits: H36mSplits
    stride: int = 5
    heatmap_size: int = 64
    heatmap_sigma: float = 1.5
    crop_margin: float = 1.2
    shard_max_samples: int = 5000

    def check(self, where: str) -> None:
        for name in ("stride", "heatmap_size", "shard_max_samples"):
            if getattr(self, name) < 1:
                raise ParamsError(f"param {where}.{name}: found {getattr(self, name)}, expected a positive integer")
        if self.heatmap_sigma <= 0 or self.crop_margin < 1:
            raise ParamsError(f"param {where}: expected heatmap_sigma > 0 and crop_margin >= 1")


def square_crop(keypoints: np.ndarray, margin: float) -> np.ndarray:
    """Square box around keypoints (..., J, 2): (..., 3) = x0, y0, side, the longer extent times `margin`."""
    lo, hi = keypoints.min(axis=-2), keypoints.max(axis=-2)
    side = (hi - lo).max(axis=-1, keepdims=True) * margin
    centre = (lo + hi) / 2
    return np.concatenate([centre - side / 2, side], axis=-1)


def sequence_samples(seq: Sequence, cameras: dict[tuple[str, int], Camera], cfg: PrepareH36m,
                     with_2d: bool) -> Iterator[dict]:
    """Samples of one sequence, every `stride`-th frame, four cameras per frame."""
    frames = np.arange(0, seq.poses.shape[0], cfg.stride)
    world = seq.poses[frames][:, JOINTS_17]  # (F, 17, 3)
    tag = seq.name.replace(" ", "_")
    for index in range(1, 5):
        cam = cameras[(seq.subject, index)]
        pose_cam = cam.to_camera(world)  # (F, 17, 3) mm
        if with_2d:
            keypoints = distort_project(pose_cam, cam.f, cam.c, cam.k, cam.p)  # (F, 17, 2)
            crops = square_crop(keypoints, cfg.crop_margin)  # (F, 3)
            scale = cfg.heatmap_size / crops[:, 2:3]  # heatmap pixels per image pixel
        for i, frame in enumerate(frames):
            sample = {
                "__key__": f"{seq.subject}-{tag}-cam{index}-{frame:06d}",
                "camera.npy": cam.intrinsics(),
                "pose3d.npy": pose_cam[i].astype(np.float32),
                "meta.json": {"subject": seq.subject, "action": seq.action, "sequence": seq.name,
                              "camera": index, "frame": int(frame)},
            }
            if with_2d:
                points = (keypoints[i] - crops[i, :2]) * scale[i]
                heatmaps = gaussian_heatmaps(torch.from_numpy(points), cfg.heatmap_size, cfg.heatmap_sigma).numpy()
                sample["heatmaps.png"] = to_uint8_tiles(heatmaps)
                sample["keypoints.npy"] = keypoints[i].astype(np.float32)
                sample["crop.npy"] = crops[i].astype(np.float32)
            yield sample


def encoded_samples(seq: Sequence, cameras: dict[tuple[str, int], Camera], cfg: PrepareH36m) -> list[tuple]:
    """One sequence's samples for each split its subject feeds, encoded for the shards: (split, encoded sample,
    pose3d) triples (the unit of work of a worker process)."""
    return [(split, encode_sample(sample), sample["pose3d.npy"])
            for split in cfg.splits.splits_of(seq.subject)
            for sample in sequence_samples(seq, cameras, cfg, with_2d=split != "memory")]


class PoseStats:
    """Manifest statistics of a split: root-relative 3D pose and root depth, in millimetres."""

    def __init__(self):
        self.relative = RunningStats()
        self.depth = RunningStats()

    def update(self, pose: np.ndarray) -> None:
        """pose (J, 3), camera frame."""
        self.relative.update((pose - pose[:1]).reshape(1, -1))
        self.depth.update(pose[:1, 2:3])

    def summary(self) -> dict:
        return {"pose3d_root_relative_mm": self.relative.summary(1), "root_depth_mm": self.depth.summary(1)}


def prepare_h36m(cfg: PrepareH36m, cameras: dict, sequences: Iterator[Sequence], shards, progress,
                 workers: int = 1) -> dict:
    """Write every sequence's samples into `shards` (a ShardSet), sequences rendered and encoded by `workers`
    processes (`pipeline.parallel`: the shards do not depend on their number); returns per-split statistics."""
    stats = {split: PoseStats() for split in SPLITS}
    encode = functools.partial(encoded_samples, cameras=cameras, cfg=cfg)
    for samples in ordered_map(encode, sequences, workers):
        for split, encoded, pose in samples:
            shards.write_encoded(split, encoded)
            stats[split].update(pose)
            progress.advance()
        progress.step()
    return {split: s.summary() for split, s in stats.items()}
