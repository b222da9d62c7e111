"""Gaussian keypoint heatmaps: one differentiable implementation, used by data preparation and by the renderer.

Convention: heatmap pixel (row i, column j) has its centre at continuous coordinates (j + 0.5, i + 0.5); a keypoint
at continuous heatmap coordinates (u, v) peaks there with value 1 and standard deviation `sigma` heatmap pixels.
"""

import numpy as np
import torch


def gaussian_profiles(points: torch.Tensor, size: int, sigma: float) -> tuple[torch.Tensor, torch.Tensor]:
    """points (..., J, 2) in heatmap coordinates -> the separable factors (gx (..., J, W), gy (..., J, H)) of their
    Gaussian heatmaps: heatmap = gy[..., :, None] * gx[..., None, :]."""
    centres = torch.arange(size, dtype=points.dtype, device=points.device) + 0.5
    gx = torch.exp(-((centres - points[..., 0:1]) ** 2) / (2 * sigma**2))
    gy = torch.exp(-((centres - points[..., 1:2]) ** 2) / (2 * sigma**2))
    return gx, gy


def gaussian_heatmaps(points: torch.Tensor, size: int, sigma: float) -> torch.Tensor:
    """points (..., J, 2) in heatmap coordinates -> heatmaps (..., J, size, size) in [0, 1]."""
    gx, gy = gaussian_profiles(points, size, sigma)
    return gy[..., :, None] * gx[..., None, :]


def blur_matrix(size: int, sigma: float, dtype=torch.float32, device=None) -> torch.Tensor:
    """(size, size) symmetric matrix M of a normalised Gaussian kernel (radius 3 sigma) with zero padding: M @ v is
    the 1D blur of a column v of length `size`."""
    radius = int(3 * sigma + 0.5)
    offsets = torch.arange(-radius, radius + 1, dtype=dtype, device=device)
    kernel = torch.exp(-(offsets**2) / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    index = torch.arange(size, device=device)
    distance = index[None, :] - index[:, None]
    return torch.where(distance.abs() <= radius, kernel[(distance + radius).clamp(0, 2 * radius)], 0)


def gaussian_blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of (..., H, W) images with zero padding (a normalised kernel of radius 3 sigma);
    sigma 0 returns the input. Computed as M_H @ images @ M_W: on heatmap-sized images two small matrix products
    are an order of magnitude faster than a depthwise convolution with a long kernel."""
    if sigma <= 0:
        return images
    h, w = images.shape[-2:]
    rows = blur_matrix(h, sigma, images.dtype, images.device)
    columns = rows if w == h else blur_matrix(w, sigma, images.dtype, images.device)
    return rows @ images @ columns  # both symmetric


def to_uint8_tiles(heatmaps: np.ndarray) -> np.ndarray:
    """(J, H, W) float in [0, 1] -> (J*H, W) uint8, the joints stacked vertically for one grayscale PNG."""
    j, h, w = heatmaps.shape
    return np.round(np.clip(heatmaps, 0, 1) * 255).astype(np.uint8).reshape(j * h, w)


def from_uint8_tiles(tiles: np.ndarray, num_joints: int) -> np.ndarray:
    """Inverse of `to_uint8_tiles`: (..., J*H, W) uint8 -> (..., J, H, W) float32 in [0, 1] (a stack of tiles
    converts in one pass)."""
    heatmaps = tiles.reshape(*tiles.shape[:-2], num_joints, -1, tiles.shape[-1]).astype(np.float32)
    heatmaps /= 255.0  # in place: a second batch-sized array costs more than the division
    return heatmaps


def heatmap_centroids(heatmaps: torch.Tensor) -> torch.Tensor:
    """Heatmaps (..., J, H, W) -> the centre of mass of each (..., J, 2) as (u, v) heatmap coordinates, the inverse of
    `gaussian_heatmaps` for a Gaussian inside the map (a parameter-free, differentiable soft-argmax)."""
    h, w = heatmaps.shape[-2:]
    mass = heatmaps.sum((-2, -1)).clamp(min=1e-6)
    u = (heatmaps.sum(-2) * (torch.arange(w, dtype=heatmaps.dtype, device=heatmaps.device) + 0.5)).sum(-1) / mass
    v = (heatmaps.sum(-1) * (torch.arange(h, dtype=heatmaps.dtype, device=heatmaps.device) + 0.5)).sum(-1) / mass
    return torch.stack([u, v], -1)
