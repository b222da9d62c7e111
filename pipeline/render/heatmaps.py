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


def to_uint8_tiles(heatmaps: np.ndarray) -> np.ndarray:
    """(J, H, W) float in [0, 1] -> (J*H, W) uint8, the joints stacked vertically for one grayscale PNG."""
    j, h, w = heatmaps.shape
    return np.round(np.clip(heatmaps, 0, 1) * 255).astype(np.uint8).reshape(j * h, w)


def from_uint8_tiles(tiles: np.ndarray, num_joints: int) -> np.ndarray:
    """Inverse of `to_uint8_tiles`: (J*H, W) uint8 -> (J, H, W) float32 in [0, 1]."""
    return tiles.reshape(num_joints, -1, tiles.shape[1]).astype(np.float32) / 255.0
