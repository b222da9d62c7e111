import numpy as np
import pytest

from pipeline.geometry import (
    distort_project,
    invert_rigid,
    look_at,
    relative_motion,
    rigid,
    rotation_matrix,
    scale_intrinsics,
    world_to_camera,
)


def test_distort_project_matches_hand_computation():
    # x = 0.1, y = 0.2, r2 = 0.05; radial = 1 + 0.1 * 0.05 = 1.005; tangential = p1 y + p2 x = 0.002 + 0.002
    # distorted = (0.1, 0.2) * 1.009 + (p2, p1) * r2 = (0.1009 + 0.001, 0.2018 + 0.0005) = (0.1019, 0.2023)
    uv = distort_project(np.array([100.0, 200.0, 1000.0]), f=[1000, 1000], c=[500, 400], k=[0.1, 0, 0],
                         p=[0.01, 0.02])
    np.testing.assert_allclose(uv, [601.9, 602.3], atol=1e-9)


def test_distort_project_without_distortion_is_pinhole():
    points = np.array([[0.0, 0.0, 5000.0], [1000.0, -2000.0, 4000.0]])  # mm
    uv = distort_project(points, f=[100, 200], c=[10, 20], k=[0, 0, 0], p=[0, 0])
    np.testing.assert_allclose(uv, [[10, 20], [35, -80]])


def test_world_to_camera_subtracts_centre_then_rotates():
    R = rotation_matrix("z", np.pi / 2)
    T = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(world_to_camera(np.array([1.0, 3.0, 3.0]), R, T), [-1.0, 0.0, 0.0], atol=1e-12)


def test_look_at_axes():
    R = look_at(np.array([0.0, -5.0, 1.0]), np.array([0.0, 0.0, 1.0]), np.array([0.0, 0.0, 1.0]))
    np.testing.assert_allclose(R @ np.array([0.0, 1.0, 0.0]), [0, 0, 1], atol=1e-12)  # forward -> +z
    np.testing.assert_allclose(R @ np.array([0.0, 0.0, 1.0]), [0, -1, 0], atol=1e-12)  # up -> -y (image up)
    np.testing.assert_allclose(np.linalg.det(R), 1.0)


@pytest.mark.parametrize("axis", ["x", "y", "z"])
def test_rotation_matrix_is_orthonormal_and_batched(axis):
    R = rotation_matrix(axis, np.linspace(-3, 3, 7))
    assert R.shape == (7, 3, 3)
    np.testing.assert_allclose(R @ R.transpose(0, 2, 1), np.broadcast_to(np.eye(3), (7, 3, 3)), atol=1e-12)


def test_relative_motion_maps_camera1_points_to_camera2():
    rng = np.random.default_rng(0)
    w2c1 = rigid(rotation_matrix("y", 0.3), rng.normal(size=3))
    w2c2 = rigid(rotation_matrix("x", -0.2) @ rotation_matrix("y", 0.4), rng.normal(size=3))
    X = rng.normal(size=3)
    X1 = w2c1[:3, :3] @ X + w2c1[:3, 3]
    X2 = w2c2[:3, :3] @ X + w2c2[:3, 3]
    M = relative_motion(w2c1, w2c2)
    np.testing.assert_allclose(M[:3, :3] @ X1 + M[:3, 3], X2, atol=1e-12)
    np.testing.assert_allclose(invert_rigid(w2c1) @ w2c1, np.eye(4), atol=1e-12)


def test_scale_intrinsics_keeps_pixel_centres():
    # Halving a 4-pixel-wide image: old centre 1.5 (between pixels 1 and 2) -> new centre 0.5.
    fx, fy, cx, cy = scale_intrinsics(100, 100, 1.5, 1.5, 0.5, 0.5)
    assert (fx, fy, cx, cy) == (50, 50, 0.5, 0.5)
