"""Synthetic Virtual KITTI: the stand-in street worlds (`street_world`, `street_render`) written frame by frame in
the Virtual KITTI 1.3.1 or 2 layout (RGB, depth in centimetres, extrinsics and, for version 2, intrinsics), read back
by the same reader as the real dataset."""

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from pipeline.parallel import ordered_map
from pipeline.synthetic import write_marker
from pipeline.synthetic.street_render import VARIATIONS, render_frame, synthetic_intrinsics
from pipeline.synthetic.street_world import build_world


@dataclass
class SynthVkitti:
    """params.yaml synthetic.vkitti: the stand-in's worlds, variations, length and resolution."""

    seed: int
    worlds: list[str]
    variations: list[str]
    frames: int = 80
    size: tuple[int, int] = (621, 188)  # width, height; the real dataset is 1242x375
    layout: Literal["vkitti1", "vkitti2"] = "vkitti1"

    def units(self) -> int:
        return len(self.worlds) * len(self.variations) * self.frames


_EXTR_HEADER = "r1,1 r1,2 r1,3 t1 r2,1 r2,2 r2,3 t2 r3,1 r3,2 r3,3 t3 0 0 0 1"


class _LayoutWriter:
    """Files of one world and variation in the Virtual KITTI 1.3.1 or 2 layout."""

    def __init__(self, root: Path, layout: str, world: str, variation: str, size, jpeg_quality: int):
        self.layout, self.jpeg_quality, self.size = layout, jpeg_quality, size
        if layout == "vkitti1":
            self.rgb_dir = root / "vkitti_1.3.1_rgb" / world / variation
            self.depth_dir = root / "vkitti_1.3.1_depthgt" / world / variation
            self.extr_path = root / "vkitti_1.3.1_extrinsicsgt" / f"{world}_{variation}.txt"
            self.extr_lines = ["frame " + _EXTR_HEADER]
            self.intr_lines = None
        else:
            base = root / world / variation
            self.rgb_dir = base / "frames" / "rgb" / "Camera_0"
            self.depth_dir = base / "frames" / "depth" / "Camera_0"
            self.extr_path = base / "extrinsic.txt"
            self.extr_lines = ["frame cameraID " + _EXTR_HEADER]
            self.intr_lines = ["frame cameraID K[0,0] K[1,1] K[0,2] K[1,2]"]
        for folder in (self.rgb_dir, self.depth_dir, self.extr_path.parent):
            folder.mkdir(parents=True, exist_ok=True)

    def write(self, frame: int, bgr: np.ndarray, depth_cm: np.ndarray, w2c: np.ndarray) -> None:
        matrix = " ".join(f"{value:.9g}" for value in w2c.reshape(-1))
        if self.layout == "vkitti1":
            cv2.imwrite(str(self.rgb_dir / f"{frame:05d}.png"), bgr)
            cv2.imwrite(str(self.depth_dir / f"{frame:05d}.png"), depth_cm)
            self.extr_lines.append(f"{frame} {matrix}")
        else:
            cv2.imwrite(str(self.rgb_dir / f"rgb_{frame:05d}.jpg"), bgr, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
            cv2.imwrite(str(self.depth_dir / f"depth_{frame:05d}.png"), depth_cm)
            self.extr_lines.append(f"{frame} 0 {matrix}")
            self.intr_lines.append(f"{frame} 0 " + " ".join(f"{k:.6f}" for k in synthetic_intrinsics(self.size)))

    def close(self) -> None:
        self.extr_path.write_text("\n".join(self.extr_lines) + "\n")
        if self.intr_lines is not None:
            (self.extr_path.parent / "intrinsic.txt").write_text("\n".join(self.intr_lines) + "\n")


def write_vkitti(root: Path, *, seed: int, worlds, variations, frames: int, size: tuple[int, int],
                 layout: str = "vkitti1", jpeg_quality: int = 95, progress=None, workers: int = 1) -> None:
    """Write worlds x variations in the Virtual KITTI 1.3.1 (`vkitti1`) or 2 (`vkitti2`) layout, a world per worker
    process (`pipeline.parallel`: the files do not depend on `workers`)."""
    root = Path(root)
    unknown = [v for v in variations if v not in VARIATIONS]
    if unknown:
        raise ValueError(f"unknown variation {unknown[0]!r}; expected one of {VARIATIONS}")
    write = functools.partial(_write_world, root, seed=seed, variations=list(variations), frames=frames,
                              size=tuple(size), layout=layout, jpeg_quality=jpeg_quality)
    for _ in ordered_map(write, worlds, workers):
        if progress is not None:
            progress.step(frames * len(variations))
    write_marker(root, "vkitti", seed, layout=layout, worlds=list(worlds), variations=list(variations),
                 frames=frames, size=list(size))


def _write_world(root: Path, world_name: str, *, seed: int, variations: list[str], frames: int,
                 size: tuple[int, int], layout: str, jpeg_quality: int) -> None:
    world = build_world(seed, world_name, frames)
    rng = np.random.default_rng([seed, frames])
    writers = {v: _LayoutWriter(root, layout, world_name, v, size, jpeg_quality) for v in variations}
    for frame in range(frames):
        for variation, (bgr, depth_cm, w2c) in render_frame(world, frame, variations, size, rng).items():
            writers[variation].write(frame, bgr, depth_cm, w2c)
    for writer in writers.values():
        writer.close()
