"""Differentiable pose renderer: a 3D pose in the camera frame -> distorted pixels -> Gaussian heatmaps of a crop.

Shapes: B batch, J joints. Camera intrinsics travel as (B, 9) = fx, fy, cx, cy, k1, k2, k3, p1, p2 (Human3.6M model).
"""

import torch

from pipeline.render.heatmaps import gaussian_heatmaps


def project(points: torch.Tensor, camera: torch.Tensor) -> torch.Tensor:
    """Camera-frame points (B, J, 3) -> pixels (B, J, 2): perspective division, radial + tangential distortion."""
    f, c, k, p = camera[:, None, 0:2], camera[:, None, 2:4], camera[:, None, 4:7], camera[:, None, 7:9]
    xy = points[..., :2] / points[..., 2:3].clamp(min=1e-3)
    r2 = (xy**2).sum(-1, keepdim=True)
    radial = 1 + k[..., 0:1] * r2 + k[..., 1:2] * r2**2 + k[..., 2:3] * r2**3
    tangential = p[..., 0:1] * xy[..., 1:2] + p[..., 1:2] * xy[..., 0:1]
    distorted = xy * (radial + tangential) + torch.cat([p[..., 1:2], p[..., 0:1]], -1) * r2
    return f * distorted + c


def solve_translation(relative: torch.Tensor, keypoints: torch.Tensor, camera: torch.Tensor) -> torch.Tensor:
    """Translation t (B, 3) that best projects root-relative points (B, J, 3) onto pixels (B, J, 2), pinhole model.

    From u = fx (X + tx) / (Z + tz) + cx: fx tx - (u - cx) tz = (u - cx) Z - fx X, and likewise for v; 2J linear
    equations in (tx, ty, tz), solved by least squares (differentiable in the points).
    """
    f, c = camera[:, None, 0:2], camera[:, None, 2:4]
    centred = keypoints - c  # (B, J, 2)
    b, j = relative.shape[:2]
    zeros = torch.zeros(b, j, device=relative.device, dtype=relative.dtype)
    rows_u = torch.stack([f[..., 0].expand(b, j), zeros, -centred[..., 0]], -1)
    rows_v = torch.stack([zeros, f[..., 1].expand(b, j), -centred[..., 1]], -1)
    A = torch.cat([rows_u, rows_v], 1)  # (B, 2J, 3)
    rhs = torch.cat([centred[..., 0] * relative[..., 2] - f[..., 0] * relative[..., 0],
                     centred[..., 1] * relative[..., 2] - f[..., 1] * relative[..., 1]], 1)  # (B, 2J)
    normal = A.transpose(1, 2) @ A  # (B, 3, 3): solve the normal equations (tiny, well conditioned)
    return torch.linalg.solve(normal, (A.transpose(1, 2) @ rhs[..., None]))[..., 0]


def to_crop(pixels: torch.Tensor, crop: torch.Tensor, size: int) -> torch.Tensor:
    """Image pixels (B, J, 2) -> heatmap coordinates of the square crop (B, 3) = x0, y0, side."""
    return (pixels - crop[:, None, :2]) * (size / crop[:, None, 2:3])


def render_heatmaps(points: torch.Tensor, camera: torch.Tensor, crop: torch.Tensor, size: int, sigma: float,
                    blur: float = 0.0) -> torch.Tensor:
    """Camera-frame pose (B, J, 3) mm -> heatmaps (B, J, size, size) of the sample's crop.

    With `blur` > 0 the heatmaps come out as if convolved with a normalised Gaussian of that sigma: blurring a
    Gaussian of sigma s gives s^2 / (s^2 + b^2) times a Gaussian of sigma sqrt(s^2 + b^2), drawn directly.
    """
    variance = sigma**2 + blur**2
    pixels = to_crop(project(points, camera), crop, size)
    return gaussian_heatmaps(pixels, size, variance**0.5) * (sigma**2 / variance)
