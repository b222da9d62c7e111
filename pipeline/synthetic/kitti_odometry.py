"""Synthetic KITTI odometry: street drives of the stand-in worlds in the KITTI odometry layout."""

import functools
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from pipeline.parallel import ordered_map
from pipeline.synthetic import write_marker
from pipeline.synthetic.street_render import render_frame, synthetic_intrinsics
from pipeline.synthetic.street_world import build_world


@dataclass
class SynthKittiOdometry:
    """params.yaml synthetic.kitti_odometry: the stand-in's drives in the KITTI odometry layout."""

    seed: int
    sequences: list[str]
    frames: int = 100
    size: tuple[int, int] = (621, 188)  # width, height; the real sequences are about 1241x376

    def units(self) -> int:
        return len(self.sequences) * self.frames


def write_kitti_odometry_root(root: Path, *, seed: int, sequences, frames: int, size: tuple[int, int],
                              progress=None, workers: int = 1) -> None:
    """Write synthetic drives in the KITTI odometry layout, one per sequence name, a sequence per worker process
    (`pipeline.parallel`: the files do not depend on `workers`)."""
    write = functools.partial(write_kitti_odometry, Path(root), seed=seed, frames=frames, size=tuple(size))
    for _ in ordered_map(write, sequences, workers):
        if progress is not None:
            progress.step(frames)
    write_marker(root, "kitti_odometry", seed, sequences=list(sequences), frames=frames, size=list(size))


def write_kitti_odometry(root: Path, sequence: str, *, seed: int, frames: int, size: tuple[int, int]) -> None:
    """A synthetic street drive in the KITTI odometry layout (image_2, calib.txt, poses relative to frame 0)."""
    root = Path(root)
    images = root / "sequences" / sequence / "image_2"
    images.mkdir(parents=True, exist_ok=True)
    world = build_world(seed, sequence, frames)
    rng = np.random.default_rng([seed, frames])
    fx, fy, cx, cy = synthetic_intrinsics(size)
    lines = []
    first = None
    for frame in range(frames):
        bgr, _, w2c = render_frame(world, frame, ["clone"], size, rng)["clone"]
        cv2.imwrite(str(images / f"{frame:06d}.png"), bgr)
        first = w2c if first is None else first
        pose = first @ np.linalg.inv(w2c)  # camera-to-world, the world being the first camera's frame
        lines.append(" ".join(f"{v:.9e}" for v in pose[:3].reshape(-1)))
    (root / "poses").mkdir(exist_ok=True)
    (root / "poses" / f"{sequence}.txt").write_text("\n".join(lines) + "\n")
    baseline = 0.54  # metres between KITTI's stereo pairs
    calib = []
    for index, shift in enumerate((0.0, -baseline, 0.06, -baseline + 0.06)):
        P = np.array([[fx, 0, cx, fx * shift], [0, fy, cy, 0], [0, 0, 1, 0]])
        calib.append(f"P{index}: " + " ".join(f"{v:.12e}" for v in P.reshape(-1)))
    calib.append("Tr: " + " ".join(f"{v:.12e}" for v in np.eye(4)[:3].reshape(-1)))
    (root / "sequences" / sequence / "calib.txt").write_text("\n".join(calib) + "\n")
