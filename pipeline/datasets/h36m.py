"""Human3.6M readers: the 3d-pose-baseline layout (h5 per action + cameras.h5) and the VideoPose3D npz.

3d-pose-baseline: `S<k>/MyPoses/3D_positions/<Action>[ N].h5`, dataset `3D_positions` float64 (96, N) = 32 joints x
(x, y, z) world millimetres; `cameras.h5` with `subject<k>/camera<1..4>/{R,T,f,c,k,p,Name}`, R stored transposed.
VideoPose3D: `data_3d_h36m.npz` with `positions_3d[subject][action]` (N, 32, 3) float32 metres, cameras published.
"""

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from pipeline.errors import DataError
from pipeline.geometry import distort_project, world_to_camera
from pipeline.skeleton import NUM_JOINTS_32

SUBJECTS = ("S1", "S5", "S6", "S7", "S8", "S9", "S11")
CAMERA_IDS = ("54138969", "55011271", "58860488", "60457274")  # camera1..camera4
CORRUPT_SEQUENCES = {("S11", "Directions")}  # the S11 Directions recording is known to be broken
# Names some subjects' files give two of the 15 actions (S1's "TakingPhoto 1", "WalkingDog"), and the action meant.
ACTION_ALIASES = {"TakingPhoto": "Photo", "WalkingDog": "WalkDog"}
PUBLISHED_CAMERAS = Path(__file__).with_name("h36m_published_cameras.json")


@dataclass(frozen=True)
class Camera:
    """A calibrated Human3.6M camera. `R` is world-to-camera, `T` the camera centre (world mm)."""

    R: np.ndarray  # (3, 3)
    T: np.ndarray  # (3,)
    f: np.ndarray  # (2,) pixels
    c: np.ndarray  # (2,) pixels
    k: np.ndarray  # (3,) radial distortion
    p: np.ndarray  # (2,) tangential distortion
    name: str

    def to_camera(self, points_world: np.ndarray) -> np.ndarray:
        return world_to_camera(points_world, self.R, self.T)

    def project(self, points_world: np.ndarray) -> np.ndarray:
        """World millimetres (..., 3) -> distorted pixel coordinates (..., 2)."""
        return distort_project(self.to_camera(points_world), self.f, self.c, self.k, self.p)

    def intrinsics(self) -> np.ndarray:
        """(9,) float32: fx, fy, cx, cy, k1, k2, k3, p1, p2."""
        return np.concatenate([self.f, self.c, self.k, self.p]).astype(np.float32)


@dataclass(frozen=True)
class Sequence:
    """One recording: `poses` (N, 32, 3) world millimetres, loaded only when the sequence is read."""

    subject: str
    name: str  # e.g. "Walking 1"
    poses: np.ndarray

    @property
    def action(self) -> str:
        """The action without its take number: "Walking 1" -> "Walking"."""
        return action_of(self.name)


def action_of(sequence_name: str) -> str:
    """The action of a take: "Walking 1" -> "Walking", "TakingPhoto 1" -> "Photo"."""
    action = re.sub(r" \d+$", "", sequence_name)
    return ACTION_ALIASES.get(action, action)


def subject_number(subject: str) -> int:
    if not re.fullmatch(r"S\d+", subject):
        raise DataError(f"subject {subject!r}: expected a name like S9")
    return int(subject[1:])


# ------------------------------------------------------------------------------------- 3d-pose-baseline


def read_cameras(path: str | Path, subjects) -> dict[tuple[str, int], Camera]:
    """Cameras of the given subjects from `cameras.h5`: {(subject, 1..4): Camera}."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: camera file not found (expected the 3d-pose-baseline cameras.h5)")
    cameras = {}
    try:
        with h5py.File(path, "r") as hf:
            for subject in subjects:
                for index in range(1, 5):
                    group = f"subject{subject_number(subject)}/camera{index}"
                    if group not in hf:
                        raise DataError(f"{path}: group {group} missing (expected subject<k>/camera<1..4>)")
                    g = hf[group]
                    values = {}
                    for name, shape in (("R", (3, 3)), ("T", (3, 1)), ("f", (2, 1)), ("c", (2, 1)),
                                        ("k", (3, 1)), ("p", (2, 1))):
                        if name not in g or g[name].shape != shape:
                            found = g[name].shape if name in g else "nothing"
                            raise DataError(f"{path}: {group}/{name} has shape {found}, expected {shape}")
                        values[name] = np.asarray(g[name][...], np.float64)
                    name = "".join(chr(int(c)) for c in np.ravel(g["Name"][...])) if "Name" in g else ""
                    cameras[(subject, index)] = Camera(
                        R=values["R"].T,  # stored transposed
                        T=values["T"].reshape(3),
                        f=values["f"].reshape(2),
                        c=values["c"].reshape(2),
                        k=values["k"].reshape(3),
                        p=values["p"].reshape(2),
                        name=name,
                    )
    except OSError as err:
        raise DataError(f"{path}: unreadable HDF5 file ({err})") from None
    return cameras


def sequence_files(root: str | Path, subject: str) -> list[Path]:
    folder = Path(root) / subject / "MyPoses" / "3D_positions"
    if not folder.is_dir():
        raise DataError(f"{folder}: folder not found (expected <root>/{subject}/MyPoses/3D_positions/*.h5)")
    files = sorted(folder.glob("*.h5"))
    if not files:
        raise DataError(f"{folder}: no .h5 files (expected one per action, e.g. 'Walking 1.h5')")
    return files


def read_sequence_file(path: Path, subject: str) -> Sequence:
    """One `<Action>[ N].h5` file -> Sequence with poses (N, 32, 3) float64 mm."""
    try:
        with h5py.File(path, "r") as hf:
            if "3D_positions" not in hf:
                raise DataError(f"{path}: dataset 3D_positions missing")
            data = hf["3D_positions"][...]
    except OSError as err:
        raise DataError(f"{path}: unreadable or truncated HDF5 file ({err})") from None
    if data.ndim != 2 or data.shape[0] != 3 * NUM_JOINTS_32:
        raise DataError(f"{path}: 3D_positions has shape {data.shape}, expected (96, N)")
    if not np.isfinite(data).all():
        raise DataError(f"{path}: 3D_positions contains NaN or inf values")
    return Sequence(subject, path.stem, np.asarray(data, np.float64).T.reshape(-1, NUM_JOINTS_32, 3))


def iter_sequences(root: str | Path, subjects) -> Iterator[Sequence]:
    """Every sequence of the given subjects, one h5 file in memory at a time; skips known corrupt recordings."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: Human3.6M root not found (set h36m.root in params.yaml)")
    for subject in subjects:
        for path in sequence_files(root, subject):
            if (subject, path.stem) in CORRUPT_SEQUENCES:
                continue
            yield read_sequence_file(path, subject)


# ------------------------------------------------------------------------------------- VideoPose3D


def _quaternion_matrix(q) -> np.ndarray:
    """Rotation matrix of a unit quaternion (w, x, y, z)."""
    w, x, y, z = np.asarray(q, np.float64) / np.linalg.norm(q)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


def published_cameras(subjects) -> dict[tuple[str, int], Camera]:
    """The published Human3.6M calibration (used with the VideoPose3D layout, which ships no camera file)."""
    table = json.loads(PUBLISHED_CAMERAS.read_text())
    cameras = {}
    for subject in subjects:
        if subject not in table["extrinsics"]:
            raise DataError(f"subject {subject}: no published calibration (known: {', '.join(table['extrinsics'])})")
        for index, (intr, extr) in enumerate(zip(table["intrinsics"], table["extrinsics"][subject], strict=True), 1):
            cameras[(subject, index)] = Camera(
                R=_quaternion_matrix(extr["orientation"]).T,  # stored camera-to-world
                T=np.asarray(extr["translation"], np.float64),
                f=np.asarray(intr["f"], np.float64),
                c=np.asarray(intr["c"], np.float64),
                k=np.asarray(intr["k"], np.float64),
                p=np.asarray(intr["p"], np.float64),
                name=intr["id"],
            )
    return cameras


def iter_videopose3d(path: str | Path, subjects) -> Iterator[Sequence]:
    """Sequences from `data_3d_h36m.npz`, converted from metres to millimetres."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found (expected the VideoPose3D data_3d_h36m.npz)")
    try:
        with np.load(path, allow_pickle=True) as npz:  # the format itself is a pickled dict of arrays
            if "positions_3d" not in npz:
                raise DataError(f"{path}: key positions_3d missing (found {', '.join(npz.files)})")
            positions = npz["positions_3d"].item()
    except (OSError, ValueError, EOFError) as err:
        raise DataError(f"{path}: unreadable npz file ({err})") from None
    for subject in subjects:
        if subject not in positions:
            raise DataError(f"{path}: subject {subject} missing (found {', '.join(sorted(positions))})")
        for name in sorted(positions[subject]):
            if (subject, name) in CORRUPT_SEQUENCES:
                continue
            poses = np.asarray(positions[subject][name], np.float64)
            if poses.ndim != 3 or poses.shape[1:] != (NUM_JOINTS_32, 3):
                raise DataError(f"{path}: positions_3d[{subject}][{name}] has shape {poses.shape}, expected (N, 32, 3)")
            yield Sequence(subject, name, poses * 1000.0)


def open_h36m(root: str | Path, layout: str, subjects) -> tuple[dict[tuple[str, int], Camera], Iterator[Sequence]]:
    """Cameras and a lazy sequence iterator for a Human3.6M root in the given layout."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: Human3.6M root not found (set h36m.root in params.yaml)")
    if layout == "3d-pose-baseline":
        return read_cameras(root / "cameras.h5", subjects), iter_sequences(root, subjects)
    if layout == "videopose3d":
        return published_cameras(subjects), iter_videopose3d(root / "data_3d_h36m.npz", subjects)
    raise DataError(f"h36m layout {layout!r}: expected 3d-pose-baseline or videopose3d")
