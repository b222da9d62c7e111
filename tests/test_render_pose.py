import numpy as np
import pytest
import torch

from pipeline.geometry import distort_project
from pipeline.render.heatmaps import gaussian_blur, gaussian_heatmaps
from pipeline.render.pose import project, render_heatmaps, solve_translation, to_crop


def _camera(k=(0.0, 0.0, 0.0), p=(0.0, 0.0)):
    return torch.tensor([[1000.0, 1000.0, 500.0, 400.0, *k, *p]], dtype=torch.float64)


def test_projection_hand_computed():
    # (100, 200, 1000) mm: x = 0.1, y = 0.2 -> (1000 * 0.1 + 500, 1000 * 0.2 + 400) without distortion.
    points = torch.tensor([[[100.0, 200.0, 1000.0]]], dtype=torch.float64)
    np.testing.assert_allclose(project(points, _camera()).numpy(), [[[600.0, 600.0]]])
    # With k1 = 0.1, p = (0.01, 0.02): (601.9, 602.3), worked out by hand in tests/test_geometry.py.
    np.testing.assert_allclose(project(points, _camera(k=(0.1, 0, 0), p=(0.01, 0.02))).numpy(), [[[601.9, 602.3]]])


def test_projection_matches_the_numpy_camera_model():
    rng = np.random.default_rng(0)
    points = rng.normal(size=(2, 17, 3)) * 300 + [0, 0, 5000]
    camera = np.array([[1145.0, 1143.0, 512.0, 515.0, -0.2, 0.24, -0.003, -0.001, -0.0014]] * 2)
    expected = distort_project(points, camera[0, :2], camera[0, 2:4], camera[0, 4:7], camera[0, 7:9])
    np.testing.assert_allclose(project(torch.from_numpy(points), torch.from_numpy(camera)).numpy(), expected,
                               rtol=1e-10)


def test_translation_recovers_the_true_placement():
    rng = np.random.default_rng(1)
    relative = torch.from_numpy(rng.normal(size=(3, 17, 3)) * 300)
    t = torch.tensor([[100.0, -200.0, 4500.0], [0.0, 0.0, 3000.0], [-300.0, 50.0, 6000.0]], dtype=torch.float64)
    camera = _camera().repeat(3, 1)
    keypoints = project(relative + t[:, None], camera)
    np.testing.assert_allclose(solve_translation(relative, keypoints, camera).numpy(), t.numpy(), atol=1e-6)


def test_heatmaps_peak_at_the_keypoint_and_follow_the_crop():
    crop = torch.tensor([[548.0, 570.0, 200.0]], dtype=torch.float64)  # 64 heatmap pixels over 200 image pixels
    point = torch.tensor([[[100.0, 200.0, 1000.0]]], dtype=torch.float64)  # projects to (600, 600)
    coords = to_crop(project(point, _camera()), crop, 64)
    np.testing.assert_allclose(coords.numpy(), [[[52 * 0.32, 30 * 0.32]]])  # (16.64, 9.6)
    heatmaps = render_heatmaps(point, _camera(), crop, 64, 1.5)
    row, col = np.unravel_index(heatmaps[0, 0].argmax().item(), (64, 64))
    assert (col, row) == (16, 9)


def test_gaussian_value_hand_computed():
    h = gaussian_heatmaps(torch.tensor([[2.5, 1.5]], dtype=torch.float64), 4, 1.0)
    assert h[0, 1, 2].item() == pytest.approx(1.0)  # pixel centre (2.5, 1.5)
    assert h[0, 1, 3].item() == pytest.approx(np.exp(-0.5))  # one pixel to the right
    assert h[0, 0, 3].item() == pytest.approx(np.exp(-1.0))  # diagonal neighbour


def test_heatmap_renderer_is_differentiable():
    torch.manual_seed(0)
    pose = (torch.randn(1, 3, 3, dtype=torch.float64) * 100 + torch.tensor([0.0, 0.0, 3000.0])).requires_grad_()
    camera = torch.tensor([[1000.0, 1000.0, 8.0, 8.0, -0.1, 0.05, 0.0, 0.001, -0.001]], dtype=torch.float64)
    crop = torch.tensor([[-100.0, -100.0, 216.0]], dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda p: render_heatmaps(p, camera, crop, 8, 1.5), (pose,))
    assert torch.autograd.gradcheck(lambda p: solve_translation(p[:, :, :], project(p, camera), camera), (pose,))


def test_blurred_gaussian_is_a_wider_gaussian():
    """The identity the blurred reconstruction loss relies on: G_s * N_b = s^2 / (s^2 + b^2) G_sqrt(s^2 + b^2)."""
    point = torch.tensor([[[20.3, 18.7]]], dtype=torch.float64)
    s, b = 1.2, 3.0
    blurred = gaussian_blur(gaussian_heatmaps(point, 40, s), b)
    wide = gaussian_heatmaps(point, 40, (s**2 + b**2) ** 0.5) * (s**2 / (s**2 + b**2))
    np.testing.assert_allclose(blurred.numpy(), wide.numpy(), atol=2e-3)
    assert gaussian_blur(wide, 0.0) is wide
    # The renderer's blur argument draws exactly that.
    camera, crop = _camera(), torch.tensor([[548.0, 570.0, 200.0]], dtype=torch.float64)
    pose = torch.tensor([[[100.0, 200.0, 1000.0]]], dtype=torch.float64)
    np.testing.assert_allclose(render_heatmaps(pose, camera, crop, 40, s, blur=b).numpy(),
                               gaussian_blur(render_heatmaps(pose, camera, crop, 40, s), b).numpy(), atol=2e-3)
