"""Gaussian keypoint heatmaps: one differentiable implementation, used by data preparation and by the renderer.

Convention: heatmap pixel (row i, column j) has its centre at continuous coordinates (j + 0.5, i + 0.5); a keypoint
at continuous heatmap coordinates (u, v) peaks there with value 1 and standard deviation `sigma` heatmap pixels.
"""

import numpy as np
import torch


def gaussian_heatmaps(points: torch.Tensor, size: int, sigma: float) -> torch.Tensor:
    """points (..., J, 2) in heatmap coordinates -> heatmaps (..., J, size, size) in [0, 1]."""
    centres = torch.arange(size, dtype=points.dtype, device=points.device) + 0.5
    gx = torch.exp(-((centres - points[..., 0:1]) ** 2) / (2 * sigma**2))  # (..., J, W)
    gy = torch.exp(-((centres - points[..., 1:2]) ** 2) / (2 * sigma**2))  # (..., J, H)
    return gy[..., :, None] * gx[..., None, :]  # separable: (..., J, H, 1) * (..., J, 1, W)


def gaussian_blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of (B, C, H, W) images with zero padding; sigma 0 returns the input."""
    if sigma <= 0:
        return images
    radius = int(3 * sigma + 0.5)
    offsets = torch.arange(-radius, radius + 1, dtype=images.dtype, device=images.device)
    kernel = torch.exp(-(offsets**2) / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    channels = images.shape[1]
    horizontal = kernel.view(1, 1, 1, -1).expand(channels, 1, 1, -1)
    vertical = kernel.view(1, 1, -1, 1).expand(channels, 1, -1, 1)
    images = torch.nn.functional.conv2d(images, horizontal, padding=(0, radius), groups=channels)
    return torch.nn.functional.conv2d(images, vertical, padding=(radius, 0), groups=channels)


def to_uint8_tiles(heatmaps: np.ndarray) -> np.ndarray:
    """(J, H, W) float in [0, 1] -> (J*H, W) uint8, the joints stacked vertically for one grayscale PNG."""
    j, h, w = heatmaps.shape
    return np.round(np.clip(heatmaps, 0, 1) * 255).astype(np.uint8).reshape(j * h, w)


def from_uint8_tiles(tiles: np.ndarray, num_joints: int) -> np.ndarray:
    """Inverse of `to_uint8_tiles`: (J*H, W) uint8 -> (J, H, W) float32 in [0, 1]."""
    return tiles.reshape(num_joints, -1, tiles.shape[1]).astype(np.float32) / 255.0


def heatmap_centroids(heatmaps: torch.Tensor) -> torch.Tensor:
    """Heatmaps (..., J, H, W) -> the centre of mass of each (..., J, 2) as (u, v) heatmap coordinates, the inverse of
    `gaussian_heatmaps` for a Gaussian inside the map (a parameter-free, differentiable soft-argmax)."""
    h, w = heatmaps.shape[-2:]
    mass = heatmaps.sum((-2, -1)).clamp(min=1e-6)
    u = (heatmaps.sum(-2) * (torch.arange(w, dtype=heatmaps.dtype, device=heatmaps.device) + 0.5)).sum(-1) / mass
    v = (heatmaps.sum(-1) * (torch.arange(h, dtype=heatmaps.dtype, device=heatmaps.device) + 0.5)).sum(-1) / mass
    return torch.stack([u, v], -1)
