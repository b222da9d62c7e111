"""KITTI odometry reader, for evaluating egomotion on real KITTI.

Layout: `sequences/<NN>/image_<c>/%06d.png`, `sequences/<NN>/calib.txt` (lines `P0:` .. `P3:` with 12 numbers, a
row-major 3x4 projection matrix; other lines such as `Tr:` are ignored), and `poses/<NN>.txt` (12 numbers a line, a
row-major 3x4 camera-to-world matrix; sequences 00-10 only).
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.errors import DataError


@dataclass(frozen=True)
class OdometrySequence:
    name: str
    images: list[Path]
    projection: np.ndarray  # (3, 4) of the chosen camera
    poses: np.ndarray | None  # (N, 4, 4) camera-to-world, or None where KITTI publishes no ground truth

    @property
    def intrinsics(self) -> tuple[float, float, float, float]:
        P = self.projection
        return float(P[0, 0]), float(P[1, 1]), float(P[0, 2]), float(P[1, 2])


def _numbers(path: Path, number: int, fields: list[str], count: int) -> np.ndarray:
    if len(fields) != count:
        raise DataError(f"{path}:{number}: found {len(fields)} values, expected {count}")
    try:
        return np.array([float(v) for v in fields], np.float64)
    except ValueError:
        raise DataError(f"{path}:{number}: found a non-numeric value, expected {count} numbers") from None


def read_calib(path: Path) -> dict[str, np.ndarray]:
    """{"P0": (3, 4), ..., "P3": (3, 4)} from calib.txt."""
    if not path.is_file():
        raise DataError(f"{path}: calibration file not found")
    matrices = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        key, _, rest = line.partition(":")
        if key in ("P0", "P1", "P2", "P3"):
            matrices[key] = _numbers(path, number, rest.split(), 12).reshape(3, 4)
    missing = [k for k in ("P0", "P1", "P2", "P3") if k not in matrices]
    if missing:
        raise DataError(f"{path}: no {missing[0]}: line, expected P0: to P3:")
    return matrices


def read_poses(path: Path) -> np.ndarray:
    """(N, 4, 4) camera-to-world poses from a poses/<NN>.txt file."""
    poses = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if line.strip():
            pose = np.eye(4)
            pose[:3] = _numbers(path, number, line.split(), 12).reshape(3, 4)
            poses.append(pose)
    if not poses:
        raise DataError(f"{path}: no poses")
    return np.stack(poses)


def odometry_sequence(root: str | Path, sequence: str, camera: int = 2) -> OdometrySequence:
    root = Path(root)
    folder = root / "sequences" / sequence
    images = sorted((folder / f"image_{camera}").glob("*.png"))
    if not images:
        raise DataError(f"{folder / f'image_{camera}'}: no images (expected the KITTI odometry layout "
                        f"sequences/<NN>/image_{camera}/%06d.png)")
    projection = read_calib(folder / "calib.txt")[f"P{camera}"]
    poses_file = root / "poses" / f"{sequence}.txt"
    poses = read_poses(poses_file) if poses_file.is_file() else None
    if poses is not None and len(poses) != len(images):
        raise DataError(f"{poses_file}: {len(poses)} poses for {len(images)} images, expected one per image")
    return OdometrySequence(sequence, images, projection, poses)
