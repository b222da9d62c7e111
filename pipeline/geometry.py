"""Rotations, rigid transforms and camera models (NumPy; the camera model itself lives in render/camera.py)."""

import numpy as np
import torch

from pipeline.render.camera import project


def rotation_matrix(axis: str, angle) -> np.ndarray:
    """Rotation by `angle` radians about the x, y or z axis; `angle` may be an array (...,) -> (..., 3, 3)."""
    angle = np.asarray(angle, dtype=np.float64)
    c, s = np.cos(angle), np.sin(angle)
    o, z = np.ones_like(angle), np.zeros_like(angle)
    rows = {
        "x": [[o, z, z], [z, c, -s], [z, s, c]],
        "y": [[c, z, s], [z, o, z], [-s, z, c]],
        "z": [[c, -s, z], [s, c, z], [z, z, o]],
    }[axis]
    return np.stack([np.stack(r, axis=-1) for r in rows], axis=-2)


def look_at(eye: np.ndarray, target: np.ndarray, up: np.ndarray) -> np.ndarray:
    """World-to-camera rotation of a camera at `eye` looking at `target` (camera x right, y down, z forward)."""
    forward = target - eye
    forward = forward / np.linalg.norm(forward)
    right = np.cross(forward, up)
    right = right / np.linalg.norm(right)
    down = np.cross(forward, right)
    return np.stack([right, down, forward])  # rows are the camera axes in world coordinates


def world_to_camera(points: np.ndarray, R: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Human3.6M convention: `X_cam = R (X_world - T)`, `T` the camera centre. points (..., 3) -> (..., 3)."""
    return (points - T.reshape(3)) @ R.T


def distort_project(points_cam: np.ndarray, f, c, k, p) -> np.ndarray:
    """Human3.6M camera model (`render.camera.project`) on NumPy arrays: camera-frame mm (..., 3) -> pixels (..., 2)."""
    camera = torch.from_numpy(np.concatenate([np.ravel(v) for v in (f, c, k, p)]).astype(np.float64))
    points = torch.from_numpy(np.asarray(points_cam, np.float64))
    return project(points.reshape(1, -1, 3), camera[None]).numpy().reshape(*points.shape[:-1], 2)


def rigid(R: np.ndarray, t: np.ndarray) -> np.ndarray:
    """4x4 homogeneous matrix from a rotation (3, 3) and a translation (3,)."""
    m = np.eye(4)
    m[:3, :3] = R
    m[:3, 3] = np.asarray(t).reshape(3)
    return m


def invert_rigid(m: np.ndarray) -> np.ndarray:
    """Inverse of a 4x4 rigid transform without a general matrix inverse."""
    R, t = m[:3, :3], m[:3, 3]
    return rigid(R.T, -R.T @ t)


def relative_motion(world_to_cam1: np.ndarray, world_to_cam2: np.ndarray) -> np.ndarray:
    """Transform taking points from camera 1 into camera 2: `X2 = M[:3,:3] X1 + M[:3,3]` (4, 4)."""
    return world_to_cam2 @ invert_rigid(world_to_cam1)


def scale_intrinsics(fx: float, fy: float, cx: float, cy: float, sx: float, sy: float) -> tuple[float, ...]:
    """Intrinsics of an image resized by (sx, sy), pixel centres at integer coordinates (OpenCV resize)."""
    return fx * sx, fy * sy, (cx + 0.5) * sx - 0.5, (cy + 0.5) * sy - 0.5
