import numpy as np
import pytest
import torch
from conftest import TINY_VKITTI_SIZE

from pipeline.datasets.vkitti import open_vkitti, read_depth, read_rgb
from pipeline.geometry import relative_motion
from pipeline.render.warp import backproject, inverse_warp, photometric_loss, pixel_grid, project, transform

K = torch.tensor([[100.0, 120.0, 31.5, 23.5]], dtype=torch.float64)


def test_backproject_then_project_with_identity_motion_returns_the_pixels():
    depth = torch.rand(1, 1, 48, 64, dtype=torch.float64) * 50 + 1
    points = transform(backproject(depth, K), torch.eye(3, dtype=torch.float64)[None], torch.zeros(1, 3).double())
    pixels, in_front = project(points, K)
    np.testing.assert_allclose(pixels.numpy(), pixel_grid(1, 48, 64, dtype=torch.float64).numpy(), atol=1e-9)
    assert in_front.all()
    # X1 = d / f * [x - cx; y - cy; f]
    assert points[0, :, 10, 20].numpy() == pytest.approx(
        (depth[0, 0, 10, 20] * torch.tensor([(20 - 31.5) / 100, (10 - 23.5) / 120, 1.0])).numpy())


def test_known_translation_gives_the_expected_flow():
    # Moving the points 1 m to the left (T = [-1, 0, 0]) at a depth of 10 m shifts every pixel by -fx * 1 / 10.
    depth = torch.full((1, 1, 48, 64), 10.0, dtype=torch.float64)
    points = transform(backproject(depth, K), torch.eye(3, dtype=torch.float64)[None],
                       torch.tensor([[-1.0, 0.0, 0.0]], dtype=torch.float64))
    flow = project(points, K)[0] - pixel_grid(1, 48, 64, dtype=torch.float64)
    np.testing.assert_allclose(flow[:, 0].numpy(), -10.0)
    np.testing.assert_allclose(flow[:, 1].numpy(), 0.0, atol=1e-12)
    # Moving forward 1 m (T = [0, 0, -1]: points come 1 m closer) expands the image about the principal point.
    points = transform(backproject(depth, K), torch.eye(3, dtype=torch.float64)[None],
                       torch.tensor([[0.0, 0.0, -1.0]], dtype=torch.float64))
    pixels = project(points, K)[0]
    assert pixels[0, 0, 0, 0].item() == pytest.approx(31.5 + (0 - 31.5) * 10 / 9)


def test_warp_with_true_depth_and_motion_reproduces_frame_one(vkitti_root):
    seq = open_vkitti(vkitti_root, "vkitti1", "0001", "clone")
    f1, f2 = seq.frames[2], seq.frames[3]
    to_tensor = lambda a: torch.from_numpy(a.astype(np.float32)).permute(2, 0, 1)[None] / 255  # noqa: E731
    image1, image2 = to_tensor(read_rgb(f1.rgb)), to_tensor(read_rgb(f2.rgb))
    depth = torch.from_numpy(read_depth(f1.depth))[None, None]
    M = torch.from_numpy(relative_motion(f1.world_to_cam, f2.world_to_cam)).float()
    intrinsics = torch.tensor([f1.intrinsics], dtype=torch.float32)
    warped, valid = inverse_warp(image2, depth, M[None, :3, :3], M[None, :3, 3], intrinsics)
    assert valid.mean() > 0.5 and valid.shape == (1, 1, TINY_VKITTI_SIZE[1], TINY_VKITTI_SIZE[0])
    error = (image1 - warped).abs().mean(dim=1)[valid[:, 0] > 0]
    static = (image1 - image2).abs().mean(dim=1)[valid[:, 0] > 0]
    assert error.median() < 0.35 * static.median()  # edges mix objects at this tiny size: medians
    wrong = inverse_warp(image2, depth, M[None, :3, :3].transpose(1, 2), -M[None, :3, 3], intrinsics)[0]
    assert photometric_loss(image1, warped, valid) < photometric_loss(image1, wrong, valid)


def test_inverse_warp_is_differentiable_in_depth_and_motion():
    torch.manual_seed(0)
    image2 = torch.rand(1, 3, 6, 8, dtype=torch.float64)
    depth = (torch.rand(1, 1, 6, 8, dtype=torch.float64) * 5 + 5).requires_grad_()
    translation = torch.tensor([[0.1, 0.0, 0.2]], dtype=torch.float64, requires_grad=True)
    k = torch.tensor([[10.0, 10.0, 3.5, 2.5]], dtype=torch.float64)
    rotation = torch.eye(3, dtype=torch.float64)[None]
    assert torch.autograd.gradcheck(lambda d, t: inverse_warp(image2, d, rotation, t, k)[0], (depth, translation))


def test_ssim_distance_is_zero_for_identical_images_and_grows_with_noise():
    from pipeline.render.warp import ssim_distance

    torch.manual_seed(0)
    image = torch.rand(1, 3, 16, 16)
    assert ssim_distance(image, image).max().item() == pytest.approx(0.0, abs=1e-6)
    noisy = (image + 0.2 * torch.randn_like(image)).clamp(0, 1)
    assert ssim_distance(image, noisy).mean() > 0.05
    valid = torch.ones(1, 1, 16, 16)
    assert photometric_loss(image, noisy, valid, ssim=0.85) != photometric_loss(image, noisy, valid)
