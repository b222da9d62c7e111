"""Differentiable pose renderer: a 3D pose in the camera frame -> distorted pixels -> Gaussian heatmaps of a crop.

Shapes: B batch, J joints. Camera intrinsics travel as (B, 9) = fx, fy, cx, cy, k1, k2, k3, p1, p2 (Human3.6M model,
`render.camera`).
"""

import torch

from pipeline.render.camera import project
from pipeline.render.heatmaps import gaussian_heatmaps, gaussian_profiles


def solve_translation(relative: torch.Tensor, rays: torch.Tensor) -> torch.Tensor:
    """Translation t (B, 3) that best places root-relative points (B, J, 3) on their viewing rays (B, J, 2)
    (undistorted normalised image coordinates, `render.camera.undistort`).

    From x = (X + tx) / (Z + tz): tx - x tz = x Z - X, and likewise for y; 2J linear equations in (tx, ty, tz),
    solved by least squares (differentiable in the points). The system depends only on the observed rays, so it is
    well conditioned whatever the points are.
    """
    b, j = relative.shape[:2]
    ones, zeros = torch.ones(b, j, dtype=relative.dtype, device=relative.device), relative.new_zeros(b, j)
    A = torch.cat([torch.stack([ones, zeros, -rays[..., 0]], -1),
                   torch.stack([zeros, ones, -rays[..., 1]], -1)], 1)  # (B, 2J, 3)
    rhs = torch.cat([rays[..., 0] * relative[..., 2] - relative[..., 0],
                     rays[..., 1] * relative[..., 2] - relative[..., 1]], 1)  # (B, 2J)
    normal = A.transpose(1, 2) @ A  # (B, 3, 3)
    return torch.linalg.solve(normal, A.transpose(1, 2) @ rhs[..., None])[..., 0]


def to_crop(pixels: torch.Tensor, crop: torch.Tensor, size: int) -> torch.Tensor:
    """Image pixels (B, J, 2) -> heatmap coordinates of the square crop (B, 3) = x0, y0, side."""
    return (pixels - crop[:, None, :2]) * (size / crop[:, None, 2:3])


def draw_heatmaps(coords: torch.Tensor, size: int, sigma: float, blur: float = 0.0) -> torch.Tensor:
    """Heatmap coordinates (B, J, 2) -> heatmaps (B, J, size, size).

    With `blur` > 0 the heatmaps come out as if convolved with a normalised Gaussian of that sigma: blurring a
    Gaussian of sigma s gives s^2 / (s^2 + b^2) times a Gaussian of sigma sqrt(s^2 + b^2), drawn directly.
    """
    variance = sigma**2 + blur**2
    return gaussian_heatmaps(coords, size, variance**0.5) * (sigma**2 / variance)


def heatmap_mse(coords: torch.Tensor, observed: torch.Tensor, sigma: float, blur: float = 0.0) -> torch.Tensor:
    """Mean squared difference between `draw_heatmaps(coords, size, sigma, blur)` and `observed` (B, J, size, size),
    without drawing: for a separable heatmap R = gy gx^T, sum (R - O)^2 = |gy|^2 |gx|^2 - 2 gy^T O gx + |O|^2, a few
    vector products per joint instead of a full map forward and backward."""
    size = observed.shape[-1]
    variance = sigma**2 + blur**2
    gx, gy = gaussian_profiles(coords, size, variance**0.5)
    gx = gx * (sigma**2 / variance)
    drawn = gx.square().sum(-1) * gy.square().sum(-1)  # (B, J)
    overlap = (gy[..., None, :] @ observed @ gx[..., :, None])[..., 0, 0]
    return (drawn - 2 * overlap + observed.square().sum((-2, -1))).sum() / observed.numel()


def render_heatmaps(points: torch.Tensor, camera: torch.Tensor, crop: torch.Tensor, size: int, sigma: float,
                    blur: float = 0.0) -> torch.Tensor:
    """Camera-frame pose (B, J, 3) mm -> heatmaps (B, J, size, size) of the sample's crop."""
    return draw_heatmaps(to_crop(project(points, camera), crop, size), size, sigma, blur)
