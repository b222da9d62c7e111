"""Virtual KITTI readers: version 1.3.1 and version 2, one frame in memory at a time.

1.3.1: `vkitti_1.3.1_rgb/<world>/<variation>/%05d.png`, `vkitti_1.3.1_depthgt/<world>/<variation>/%05d.png`
(uint16 centimetres, 65535 = sky / invalid), `vkitti_1.3.1_extrinsicsgt/<world>_<variation>.txt` (header line starting
with `frame`, then the frame index and a row-major 4x4 world-to-camera matrix). Intrinsics are fixed for 1242x375.
2: `Scene<XX>/<variation>/frames/{rgb,depth}/Camera_<n>/{rgb_%05d.jpg,depth_%05d.png}` with `intrinsic.txt`
(`frame cameraID fx fy cx cy`) and `extrinsic.txt` (`frame cameraID` + 16 numbers, world-to-camera).
"""

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from pipeline.datasets.images import read_image
from pipeline.errors import DataError

VKITTI1_SIZE = (1242, 375)
VKITTI1_INTRINSICS = (725.0, 725.0, 620.5, 187.0)  # fx, fy, cx, cy at VKITTI1_SIZE
DEPTH_INVALID = 65535  # centimetres: sky or beyond range


@dataclass(frozen=True)
class Frame:
    index: int
    rgb: Path
    depth: Path
    world_to_cam: np.ndarray  # (4, 4)
    intrinsics: tuple[float, float, float, float]  # fx, fy, cx, cy in pixels of this frame's image


@dataclass(frozen=True)
class VkittiSequence:
    world: str
    variation: str
    frames: list[Frame]


def read_depth_cm(path: Path) -> np.ndarray:
    """The stored depth: (H, W) uint16 centimetres, DEPTH_INVALID for sky and beyond range."""
    depth = read_image(path, cv2.IMREAD_UNCHANGED)
    if depth.dtype != np.uint16 or depth.ndim != 2:
        raise DataError(f"{path}: depth image is {depth.dtype} with shape {depth.shape}, expected uint16 (H, W)")
    return depth


def read_depth(path: Path) -> np.ndarray:
    """Depth in metres (H, W) float32, 0 where invalid (sky, beyond range)."""
    depth = read_depth_cm(path)
    metres = depth.astype(np.float32) / 100.0
    metres[depth == DEPTH_INVALID] = 0.0
    return metres


def read_rgb(path: Path) -> np.ndarray:
    """(H, W, 3) uint8 BGR."""
    return read_image(path, cv2.IMREAD_COLOR)


def _table(path: Path, lead: int) -> dict[tuple[int, ...], list[float]]:
    """Parse a whitespace table with a header starting with 'frame': {lead ints: remaining numbers}."""
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    rows = {}
    with open(path) as f:
        header = f.readline()
        if not header.startswith("frame"):
            raise DataError(f"{path}:1: found {header.strip()[:40]!r}, expected a header line starting with 'frame'")
        expected = len(header.split())
        for number, line in enumerate(f, start=2):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != expected:
                raise DataError(f"{path}:{number}: found {len(fields)} values, expected {expected} like the header")
            try:
                key = tuple(int(v) for v in fields[:lead])
                rows[key] = [float(v) for v in fields[lead:]]
            except ValueError:
                raise DataError(f"{path}:{number}: found a non-numeric value in {line.strip()[:60]!r}") from None
    if not rows:
        raise DataError(f"{path}: no data lines after the header")
    return rows


def _matrix(values: list[float], path: Path, key) -> np.ndarray:
    if len(values) != 16:
        raise DataError(f"{path}: frame {key[0]} has {len(values)} matrix values, expected 16 (row-major 4x4)")
    m = np.asarray(values, np.float64).reshape(4, 4)
    if not np.allclose(m[3], [0, 0, 0, 1], atol=1e-6):
        raise DataError(f"{path}: frame {key[0]} last row is {m[3].tolist()}, expected [0, 0, 0, 1]")
    return m


def vkitti1_sequence(root: str | Path, world: str, variation: str) -> VkittiSequence:
    """One world and variation of Virtual KITTI 1.3.1 (extrinsics parsed, images left on disk)."""
    root = Path(root)
    rgb_dir = root / "vkitti_1.3.1_rgb" / world / variation
    depth_dir = root / "vkitti_1.3.1_depthgt" / world / variation
    for folder in (rgb_dir, depth_dir):
        if not folder.is_dir():
            raise DataError(f"{folder}: folder not found (expected the Virtual KITTI 1.3.1 layout under {root})")
    extrinsics_file = root / "vkitti_1.3.1_extrinsicsgt" / f"{world}_{variation}.txt"
    table = _table(extrinsics_file, lead=1)
    first = min(table)[0]
    probe = read_rgb(rgb_dir / f"{first:05d}.png")
    sx, sy = probe.shape[1] / VKITTI1_SIZE[0], probe.shape[0] / VKITTI1_SIZE[1]
    fx, fy, cx, cy = VKITTI1_INTRINSICS
    # Stand-ins rendered at another resolution keep the same field of view: scale the fixed intrinsics.
    intrinsics = (fx * sx, fy * sy, (cx + 0.5) * sx - 0.5, (cy + 0.5) * sy - 0.5)
    frames = [
        Frame(key[0], rgb_dir / f"{key[0]:05d}.png", depth_dir / f"{key[0]:05d}.png",
              _matrix(values, extrinsics_file, key), intrinsics)
        for key, values in sorted(table.items())
    ]
    return VkittiSequence(world, variation, frames)


def vkitti2_sequence(root: str | Path, scene: str, variation: str, camera: int = 0) -> VkittiSequence:
    """One scene, variation and camera of Virtual KITTI 2."""
    base = Path(root) / scene / variation
    if not base.is_dir():
        raise DataError(f"{base}: folder not found (expected the Virtual KITTI 2 layout Scene<XX>/<variation>)")
    intr = _table(base / "intrinsic.txt", lead=2)
    extr = _table(base / "extrinsic.txt", lead=2)
    frames = []
    for (frame, cam), values in sorted(extr.items()):
        if cam != camera:
            continue
        if (frame, cam) not in intr or len(intr[(frame, cam)]) != 4:
            raise DataError(f"{base / 'intrinsic.txt'}: no 'fx fy cx cy' line for frame {frame} camera {cam}")
        frames.append(Frame(
            frame,
            base / "frames" / "rgb" / f"Camera_{cam}" / f"rgb_{frame:05d}.jpg",
            base / "frames" / "depth" / f"Camera_{cam}" / f"depth_{frame:05d}.png",
            _matrix(values, base / "extrinsic.txt", (frame, cam)),
            tuple(intr[(frame, cam)]),
        ))
    if not frames:
        raise DataError(f"{base / 'extrinsic.txt'}: no frames for camera {camera}")
    return VkittiSequence(scene, variation, frames)


def open_vkitti(root: str | Path, layout: str, world: str, variation: str, camera: int = 0) -> VkittiSequence:
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: Virtual KITTI root not found (set vkitti.root in params.yaml)")
    if layout == "vkitti1":
        return vkitti1_sequence(root, world, variation)
    if layout == "vkitti2":
        return vkitti2_sequence(root, world, variation, camera)
    raise DataError(f"vkitti layout {layout!r}: expected vkitti1 or vkitti2")
