import numpy as np
import pytest
import torch

from pipeline.geometry import distort_project
from pipeline.render.camera import project, ray_rotation, undistort
from pipeline.render.heatmaps import gaussian_blur, gaussian_heatmaps, heatmap_centroids
from pipeline.render.pose import draw_heatmaps, heatmap_mse, render_heatmaps, solve_translation, to_crop

H36M_CAMERA = torch.tensor([[1145.0, 1143.8, 512.5, 515.5, -0.2071, 0.2478, -0.0031, -0.00098, -0.00142]],
                           dtype=torch.float64)


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
    camera = H36M_CAMERA.repeat(3, 1)  # with lens distortion: the rays undo it
    rays = undistort(project(relative + t[:, None], camera), camera)
    np.testing.assert_allclose(solve_translation(relative, rays).numpy(), t.numpy(), atol=1e-5)


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
    rays = undistort(project(pose.detach(), camera), camera)
    assert torch.autograd.gradcheck(lambda p: solve_translation(p, rays), (pose,))


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


@pytest.mark.parametrize("blur", [0.0, 3.0])
def test_heatmap_mse_equals_the_error_of_drawn_heatmaps(blur):
    """The loss without drawing equals the mean squared error of the drawn heatmaps, value and gradient."""
    generator = torch.Generator().manual_seed(0)
    coords = (torch.rand(3, 5, 2, generator=generator, dtype=torch.float64) * 20 - 2).requires_grad_()
    observed = torch.rand(3, 5, 16, 16, generator=generator, dtype=torch.float64)
    expected = ((draw_heatmaps(coords, 16, 1.3, blur) - observed) ** 2).mean()
    (expected_grad,) = torch.autograd.grad(expected, coords)
    value = heatmap_mse(coords, observed, 1.3, blur)
    (grad,) = torch.autograd.grad(value, coords)
    np.testing.assert_allclose(value.item(), expected.item(), rtol=1e-12)
    np.testing.assert_allclose(grad.numpy(), expected_grad.numpy(), rtol=1e-9, atol=1e-15)


def test_gaussian_blur_is_a_zero_padded_separable_convolution():
    """The matrix form equals the textbook one: correlate rows, then columns, with the normalised kernel."""
    images = torch.rand(2, 3, 12, 17, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    sigma = 1.7
    radius = int(3 * sigma + 0.5)
    offsets = torch.arange(-radius, radius + 1, dtype=torch.float64)
    kernel = torch.exp(-(offsets**2) / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    flat = images.reshape(6, 1, 12, 17)
    expected = torch.nn.functional.conv2d(flat, kernel.view(1, 1, 1, -1), padding=(0, radius))
    expected = torch.nn.functional.conv2d(expected, kernel.view(1, 1, -1, 1), padding=(radius, 0))
    np.testing.assert_allclose(gaussian_blur(images, sigma).numpy(), expected.reshape(2, 3, 12, 17).numpy(),
                               atol=1e-12)


def _adversarial_poses(generator: torch.Generator) -> torch.Tensor:
    """Finite poses (B, 17, 3) mm a diverging generator could produce: randomly rotated, at or behind the camera
    plane, 10 m wide, collapsed to a point, along the optical axis, exactly at z = 0."""
    base = torch.randn(6, 17, 3, generator=generator, dtype=torch.float64) * 400
    q, _ = torch.linalg.qr(torch.randn(6, 3, 3, generator=generator, dtype=torch.float64))
    rotated = base @ q
    return torch.stack([
        rotated[0] + torch.tensor([0.0, 0.0, 5000.0], dtype=torch.float64),  # an ordinary pose
        rotated[1] * 25,  # 10 m coordinates, straddling the camera plane
        rotated[2] - torch.tensor([0.0, 0.0, 3000.0], dtype=torch.float64),  # behind the camera
        torch.zeros(17, 3, dtype=torch.float64),  # every joint in the camera centre
        rotated[3] * torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64),  # on the optical axis, both sides
        rotated[4] * torch.tensor([1.0, 1.0, 0.0], dtype=torch.float64),  # exactly on the camera plane
    ])


def test_rendering_is_finite_with_finite_gradients_everywhere():
    """In float32, as training runs: the heatmaps, a loss on them and its gradient stay finite."""
    points = _adversarial_poses(torch.Generator().manual_seed(0)).float().requires_grad_()
    camera = H36M_CAMERA.float().expand(len(points), -1)
    crop = torch.tensor([[400.0, 350.0, 300.0]]).expand(len(points), -1)
    pixels = project(points, camera)
    assert torch.isfinite(pixels).all()
    heatmaps = render_heatmaps(points, camera, crop, 32, 1.0, blur=4.0)
    loss = (heatmaps - 0.5).square().mean() + 1e-12 * pixels.square().sum()
    assert torch.isfinite(loss)
    loss.backward()
    assert torch.isfinite(points.grad).all()


def test_joints_behind_the_camera_are_pushed_forwards():
    point = torch.tensor([[[300.0, 0.0, -500.0]]], dtype=torch.float64, requires_grad=True)
    u = project(point, H36M_CAMERA)[0, 0, 0]
    u.backward()  # moving the point forwards brings its image towards the centre: du/dz < 0 for x > 0
    assert point.grad[0, 0, 2] < 0


def test_distortion_is_continuous_and_radially_monotonic_outside_the_calibrated_field():
    radius = torch.linspace(0.0, 20.0, 4001, dtype=torch.float64)
    direction = torch.tensor([0.6, -0.8], dtype=torch.float64)
    points = torch.cat([radius[:, None] * direction * 1000, torch.full((len(radius), 1), 1000.0,
                                                                         dtype=torch.float64)], 1)
    pixels = project(points[None], H36M_CAMERA)[0]
    distance = (pixels - H36M_CAMERA[0, 2:4]).norm(dim=-1)
    assert (distance.diff() > 0).all()  # farther rays land farther out: no fold-over anywhere
    steps = (pixels.diff(dim=0)).norm(dim=-1)
    assert steps.max() < 3 * steps.min()  # no jump at the calibrated circle (r = 0.65)


def test_distortion_inside_the_image_is_the_published_polynomial():
    rng = np.random.default_rng(2)
    xy = rng.uniform(-0.45, 0.45, size=(50, 2))  # inside the image
    points = np.concatenate([xy * 4000, np.full((50, 1), 4000.0)], axis=1)
    k, p = H36M_CAMERA[0, 4:7].numpy(), H36M_CAMERA[0, 7:9].numpy()
    r2 = (xy**2).sum(1, keepdims=True)
    radial = 1 + k[0] * r2 + k[1] * r2**2 + k[2] * r2**3
    distorted = xy * (radial + p[0] * xy[:, 1:] + p[1] * xy[:, :1]) + p[::-1] * r2
    expected = H36M_CAMERA[0, :2].numpy() * distorted + H36M_CAMERA[0, 2:4].numpy()
    np.testing.assert_allclose(project(torch.from_numpy(points)[None], H36M_CAMERA)[0].numpy(), expected, rtol=1e-12)


def test_undistort_inverts_the_projection_inside_the_image():
    rng = np.random.default_rng(3)
    rays = torch.from_numpy(rng.uniform(-0.4, 0.4, size=(1, 30, 2)))
    points = torch.cat([rays * 5000, torch.full((1, 30, 1), 5000.0, dtype=torch.float64)], -1)
    np.testing.assert_allclose(undistort(project(points, H36M_CAMERA), H36M_CAMERA).numpy(), rays.numpy(), atol=1e-9)


def test_ray_rotation_turns_the_optical_axis_onto_the_ray():
    rays = torch.tensor([[0.0, 0.0], [0.3, -0.2], [-0.45, 0.4]], dtype=torch.float64)
    R = ray_rotation(rays)
    direction = torch.cat([rays, torch.ones(3, 1, dtype=torch.float64)], 1)
    direction = direction / direction.norm(dim=1, keepdim=True)
    np.testing.assert_allclose((R @ torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64)).numpy(), direction.numpy(),
                               atol=1e-12)
    np.testing.assert_allclose((R @ R.transpose(1, 2)).numpy(), np.broadcast_to(np.eye(3), (3, 3, 3)), atol=1e-12)
    np.testing.assert_allclose(torch.linalg.det(R).numpy(), 1.0)
    np.testing.assert_allclose(R[0].numpy(), np.eye(3))  # the centre ray needs no turn
    # The smallest turn: the axis about which it turns is perpendicular to both the optical axis and the ray.
    np.testing.assert_allclose((R[1] @ torch.tensor([0.2, 0.3, 0.0], dtype=torch.float64)).numpy(), [0.2, 0.3, 0.0],
                               atol=1e-12)


def test_centroids_invert_the_gaussian_heatmaps():
    points = torch.tensor([[[10.3, 20.7], [31.2, 9.0], [16.0, 16.0]]], dtype=torch.float64)
    np.testing.assert_allclose(heatmap_centroids(gaussian_heatmaps(points, 40, 1.5)).numpy(), points.numpy(),
                               atol=1e-6)
    # 3.7 sigma from the border (the prepared crops keep joints 1/12 of the side inside): the cut-off tail
    # shifts the centre by under a thousandth of a pixel.
    edge = torch.tensor([[[20.0, 5.5]]], dtype=torch.float64)
    np.testing.assert_allclose(heatmap_centroids(gaussian_heatmaps(edge, 40, 1.5)).numpy(), edge.numpy(), atol=1e-3)
