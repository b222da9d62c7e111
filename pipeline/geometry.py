"""Rotations, rigid transforms and camera models (NumPy; the differentiable versions live in render/)."""

import numpy as np


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
    """Human3.6M camera model: perspective division, radial (k1..k3) and tangential (p1, p2) distortion, pixels.

    Follows the model shipped with the dataset (3d-pose-baseline `project_point_radial`):
    `x' = x (1 + k1 r2 + k2 r4 + k3 r6 + p1 y + p2 x) + [p2, p1] r2`, then `f x' + c`. (..., 3) -> (..., 2).
    """
    f, c, k, p = (np.asarray(v, np.float64).reshape(-1) for v in (f, c, k, p))
    xy = points_cam[..., :2] / points_cam[..., 2:3]
    r2 = np.sum(xy**2, axis=-1, keepdims=True)
    radial = 1 + k[0] * r2 + k[1] * r2**2 + k[2] * r2**3
    tangential = p[0] * xy[..., 1:2] + p[1] * xy[..., 0:1]
    distorted = xy * (radial + tangential) + np.array([p[1], p[0]]) * r2
    return f * distorted + c


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
