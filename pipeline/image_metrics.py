"""Image restoration metrics: PSNR, SSIM and detail energy, over whole images or inside a region (an inpainting
hole).

Both take (B, C, H, W) tensors with values in [0, data_range] and return one value per image. SSIM is Wang et al.
(2004): 11x11 Gaussian window with sigma 1.5, K1 = 0.01, K2 = 0.03, computed per channel and averaged over the window
centres that lie inside the image (and inside the region, when one is given), then over channels.
"""

import torch

from pipeline.render.faces import destroyed_detail

SSIM_WINDOW, SSIM_SIGMA, SSIM_K1, SSIM_K2 = 11, 1.5, 0.01, 0.03


def psnr(pred: torch.Tensor, truth: torch.Tensor, data_range: float = 1.0,
         region: torch.Tensor | None = None) -> torch.Tensor:
    """Per-image PSNR in dB (inf where the images are identical); `region` (B, 1, H, W) of 0 / 1 restricts it."""
    mse = _region_mean((pred.double() - truth.double()) ** 2, region)
    return 10 * torch.log10(data_range**2 / mse)  # mse = 0 -> inf


def _region_mean(values: torch.Tensor, region: torch.Tensor | None) -> torch.Tensor:
    """Per-image mean of (B, C, H, W) values, over the pixels where `region` (B, 1, H, W) is 1, or all of them."""
    if region is None:
        return values.mean(dim=(1, 2, 3))
    weight = region.to(values.dtype).expand_as(values)
    return (values * weight).sum(dim=(1, 2, 3)) / weight.sum(dim=(1, 2, 3)).clamp(min=1)


def detail_energy(images: torch.Tensor, block: int, region: torch.Tensor | None = None) -> torch.Tensor:
    """Per-image mean square of the detail a block x block average-pooling renderer destroys: the image minus each
    block's mean. PSNR rewards a blurred guess; this measures whether an output has as much fine detail as real
    faces (compare it with the ground truth's)."""
    return _region_mean(destroyed_detail(images.double(), block) ** 2, region)


def _gaussian(dtype, device) -> torch.Tensor:
    x = torch.arange(SSIM_WINDOW, dtype=dtype, device=device) - SSIM_WINDOW // 2
    g = torch.exp(-(x**2) / (2 * SSIM_SIGMA**2))
    return g / g.sum()


def _valid_window(size: int, kernel: torch.Tensor) -> torch.Tensor:
    """(size - k + 1, size) matrix V: V @ v correlates a column v with the k-tap kernel where it fits whole."""
    out = size - len(kernel) + 1
    matrix = torch.zeros(out, size, dtype=kernel.dtype, device=kernel.device)
    for offset, weight in enumerate(kernel):
        matrix.diagonal(offset)[:] = weight
    return matrix


def ssim_map(pred: torch.Tensor, truth: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """(B, C, H - 10, W - 10): the SSIM of the window centred on each pixel that has a full window."""
    x, y = pred.double(), truth.double()
    g = _gaussian(x.dtype, x.device)
    rows, columns = _valid_window(x.shape[-2], g), _valid_window(x.shape[-1], g).T

    def blur(t):  # the separable 2D Gaussian window as two matrix products
        return rows @ t @ columns

    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx**2, blur(y * y) - my**2, blur(x * y) - mx * my
    c1, c2 = (SSIM_K1 * data_range) ** 2, (SSIM_K2 * data_range) ** 2
    return ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))


def ssim(pred: torch.Tensor, truth: torch.Tensor, data_range: float = 1.0,
         region: torch.Tensor | None = None) -> torch.Tensor:
    """Per-image mean SSIM; with `region`, over the windows centred inside it."""
    if min(pred.shape[-2:]) < SSIM_WINDOW:
        raise ValueError(f"SSIM needs images of at least {SSIM_WINDOW}x{SSIM_WINDOW}, found {tuple(pred.shape[-2:])}")
    half = SSIM_WINDOW // 2
    return _region_mean(ssim_map(pred, truth, data_range),
                        None if region is None else region[..., half:-half, half:-half])
