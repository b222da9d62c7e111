"""Virtual KITTI -> shards: frame pairs (t, t + gap) for inputs and test, depth maps alone for the memory.

Sample fields of a pair (key `<world>-<variation>-<t>`): `image1.png`, `image2.png` (H, W, 3) uint8 BGR resized to
`size`; `depth.png` (H, W) uint16 centimetres of frame t, 65535 invalid (nearest-neighbour resize on the
images' pixel grid: each output pixel takes the input pixel under its centre);
`intrinsics.npy` (4,) float32 fx, fy, cx, cy at `size`; `motion.npy` (4, 4) float64 taking camera-1 points into
camera 2 (`X2 = R X1 + T`); `extrinsics.npy` (2, 4, 4) world-to-camera of both frames; `meta.json`.
A memory sample has `depth.png`, `intrinsics.npy` and `meta.json` only.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from pipeline.datasets.images import CorruptImage, CorruptTally
from pipeline.datasets.vkitti import DEPTH_INVALID, VkittiSequence, read_depth_cm, read_rgb
from pipeline.errors import ParamsError
from pipeline.geometry import relative_motion, scale_intrinsics
from pipeline.prepare import Splits
from pipeline.stats import RunningStats


@dataclass
class PrepareVkitti:
    root: str
    layout: Literal["vkitti1", "vkitti2"]
    splits: Splits  # worlds (Virtual KITTI 2: scenes)
    variations: list[str]
    camera: int = 0
    gap: int = 1
    stride: int = 1
    size: tuple[int, int] = (208, 64)  # width, height
    max_corrupt_fraction: float = 0.01
    shard_max_samples: int = 5000

    def check(self, where: str) -> None:
        for name in ("gap", "stride", "shard_max_samples"):
            if getattr(self, name) < 1:
                raise ParamsError(f"param {where}.{name}: found {getattr(self, name)}, expected a positive integer")
        if min(self.size) < 8:
            raise ParamsError(f"param {where}.size: found {list(self.size)}, expected width and height >= 8")
        if not self.variations:
            raise ParamsError(f"param {where}.variations: empty, expected at least one variation")


class _FrameCache:
    """Resized RGB frames of one sequence, decoded once although consecutive pairs share them."""

    def __init__(self, seq: VkittiSequence, size: tuple[int, int]):
        self.seq, self.size, self.items = seq, size, {}

    def rgb(self, position: int) -> tuple[np.ndarray, tuple[int, int]]:
        """(resized image, original (H, W))."""
        if position not in self.items:
            image = read_rgb(self.seq.frames[position].rgb)
            self.items[position] = cv2.resize(image, self.size, interpolation=cv2.INTER_AREA), image.shape[:2]
        return self.items[position]

    def forget_before(self, position: int) -> None:
        self.items = {k: v for k, v in self.items.items() if k >= position}


def _scaled_intrinsics(frame, shape, size) -> np.ndarray:
    sx, sy = size[0] / shape[1], size[1] / shape[0]
    return np.array(scale_intrinsics(*frame.intrinsics, sx, sy), np.float32)


def pair_samples(seq: VkittiSequence, cfg: PrepareVkitti, tally: CorruptTally, progress) -> Iterator[dict]:
    cache = _FrameCache(seq, cfg.size)
    for first in range(0, len(seq.frames) - cfg.gap, cfg.stride):
        progress.step()
        f1, f2 = seq.frames[first], seq.frames[first + cfg.gap]
        try:
            image1, shape = cache.rgb(first)
            image2, _ = cache.rgb(first + cfg.gap)
            depth = cv2.resize(read_depth_cm(f1.depth), cfg.size, interpolation=cv2.INTER_NEAREST_EXACT)
        except CorruptImage as err:
            tally.bad(err)
            continue
        finally:
            cache.forget_before(first + cfg.stride)
        tally.ok()
        yield {
            "__key__": f"{seq.world}-{seq.variation}-{f1.index:06d}",
            "image1.png": image1,
            "image2.png": image2,
            "depth.png": depth,
            "intrinsics.npy": _scaled_intrinsics(f1, shape, cfg.size),
            "motion.npy": relative_motion(f1.world_to_cam, f2.world_to_cam),
            "extrinsics.npy": np.stack([f1.world_to_cam, f2.world_to_cam]),
            "meta.json": {"world": seq.world, "variation": seq.variation, "frame1": f1.index, "frame2": f2.index},
        }


def depth_samples(seq: VkittiSequence, cfg: PrepareVkitti, tally: CorruptTally, progress) -> Iterator[dict]:
    for position in range(0, len(seq.frames), cfg.stride):
        progress.step()
        frame = seq.frames[position]
        try:
            depth = read_depth_cm(frame.depth)
        except CorruptImage as err:
            tally.bad(err)
            continue
        tally.ok()
        yield {
            "__key__": f"{seq.world}-{seq.variation}-{frame.index:06d}",
            "depth.png": cv2.resize(depth, cfg.size, interpolation=cv2.INTER_NEAREST_EXACT),
            "intrinsics.npy": _scaled_intrinsics(frame, depth.shape, cfg.size),
            "meta.json": {"world": seq.world, "variation": seq.variation, "frame": frame.index},
        }


class SceneStats:
    """Manifest statistics of a split: pixels (BGR), valid-depth share and depth (m), translation per pair (m)."""

    def __init__(self):
        self.pixels, self.depth, self.valid, self.translation = (RunningStats() for _ in range(4))

    def update(self, sample: dict) -> None:
        depth = sample["depth.png"]
        valid = depth != DEPTH_INVALID
        self.valid.update(np.array([[valid.mean()]]))
        if valid.any():
            self.depth.update(depth[valid].reshape(-1, 1) / 100.0)
        if "image1.png" in sample:
            self.pixels.update(sample["image1.png"].reshape(-1, 3))
            self.translation.update(np.linalg.norm(sample["motion.npy"][:3, 3]).reshape(1, 1))

    def summary(self) -> dict:
        out = {"valid_depth_share": self.valid.summary(), "depth_m": self.depth.summary(2)}
        if self.pixels.n:
            out |= {"pixels_bgr": self.pixels.summary(2), "translation_m": self.translation.summary()}
        return out
