"""The structure-from-motion renderer: back-project frame 1 with its depth, move it, project into frame 2, sample.

`X1 = d / f * [x - cx; y - cy; f]`, `X2 = R X1 + T`, `(x + U, y + V) = project(X2)`, then frame 2 is sampled there
(bilinear, differentiable) and compared with frame 1: `L_photo = mean |I1(x, y) - I2(x + U, y + V)|` over pixels
that stay inside the image. Shapes: B batch, H x W image; intrinsics (B, 4) = fx, fy, cx, cy in pixels.
"""

import torch
import torch.nn.functional as F


def pixel_grid(batch: int, height: int, width: int, device=None, dtype=torch.float32) -> torch.Tensor:
    """(B, 2, H, W): x and y pixel coordinates (pixel centres at integers)."""
    y, x = torch.meshgrid(torch.arange(height, device=device, dtype=dtype),
                          torch.arange(width, device=device, dtype=dtype), indexing="ij")
    return torch.stack([x, y])[None].expand(batch, -1, -1, -1)


def backproject(depth: torch.Tensor, intrinsics: torch.Tensor) -> torch.Tensor:
    """depth (B, 1, H, W) -> camera-frame points (B, 3, H, W)."""
    b, _, h, w = depth.shape
    grid = pixel_grid(b, h, w, depth.device, depth.dtype)
    f = intrinsics[:, 0:2, None, None]
    c = intrinsics[:, 2:4, None, None]
    return torch.cat([(grid - c) / f * depth, depth], dim=1)


def transform(points: torch.Tensor, rotation: torch.Tensor, translation: torch.Tensor) -> torch.Tensor:
    """X2 = R X1 + T for points (B, 3, H, W), rotation (B, 3, 3), translation (B, 3)."""
    b, _, h, w = points.shape
    moved = rotation @ points.reshape(b, 3, -1) + translation[:, :, None]
    return moved.reshape(b, 3, h, w)


def project(points: torch.Tensor, intrinsics: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Camera-frame points (B, 3, H, W) -> pixels (B, 2, H, W) and whether each point is in front (B, 1, H, W)."""
    z = points[:, 2:3]
    in_front = z > 1e-3
    xy = points[:, :2] / z.clamp(min=1e-3)
    return xy * intrinsics[:, 0:2, None, None] + intrinsics[:, 2:4, None, None], in_front


def landing(depth1: torch.Tensor, rotation: torch.Tensor, translation: torch.Tensor,
            intrinsics: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Where frame 1's pixels land in frame 2: pixels (B, 2, H, W), and whether each lands in view (B, 1, H, W):
    in front of camera 2, inside its image, from a pixel with depth."""
    h, w = depth1.shape[-2:]
    pixels, in_front = project(transform(backproject(depth1, intrinsics), rotation, translation), intrinsics)
    x, y = pixels[:, 0:1], pixels[:, 1:2]
    inside = (x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)
    return pixels, inside & in_front & (depth1 > 0)


def inverse_warp(image2: torch.Tensor, depth1: torch.Tensor, rotation: torch.Tensor, translation: torch.Tensor,
                 intrinsics: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Frame 2 resampled at the pixels where frame 1's points land: (warped (B, C, H, W), valid (B, 1, H, W))."""
    h, w = image2.shape[-2:]
    pixels, in_view = landing(depth1, rotation, translation, intrinsics)
    x, y = pixels[:, 0], pixels[:, 1]
    grid = torch.stack([2 * x / (w - 1) - 1, 2 * y / (h - 1) - 1], dim=-1)  # (B, H, W, 2), align_corners=True
    warped = F.grid_sample(image2, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
    return warped, in_view.to(image2.dtype)


def ssim_distance(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(1 - SSIM) / 2 per pixel over 3x3 windows, (B, 1, H, W) averaged over channels (as in Monodepth2)."""
    pad = lambda t: F.pad(t, (1, 1, 1, 1), mode="reflect")  # noqa: E731
    mu_x, mu_y = F.avg_pool2d(pad(x), 3, 1), F.avg_pool2d(pad(y), 3, 1)
    var_x = F.avg_pool2d(pad(x * x), 3, 1) - mu_x**2
    var_y = F.avg_pool2d(pad(y * y), 3, 1) - mu_y**2
    cov = F.avg_pool2d(pad(x * y), 3, 1) - mu_x * mu_y
    c1, c2 = 0.01**2, 0.03**2
    ssim = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return ((1 - ssim) / 2).clamp(0, 1).mean(dim=1, keepdim=True)


def photometric_loss(image1: torch.Tensor, warped: torch.Tensor, valid: torch.Tensor,
                     ssim: float = 0.0) -> torch.Tensor:
    """Mean over valid pixels of |I1 - I2(warped)| (channel mean), mixed with the SSIM distance by weight `ssim`."""
    per_pixel = (image1 - warped).abs().mean(dim=1, keepdim=True)
    if ssim > 0:
        per_pixel = ssim * ssim_distance(image1, warped) + (1 - ssim) * per_pixel
    return (per_pixel * valid).sum() / valid.sum().clamp(min=1)
