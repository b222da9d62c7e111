"""Face renderers: what the camera would observe given a full-resolution face.

- super-resolution: `average_pool`, the mean of each factor x factor block (a low-resolution sensor);
- inpainting: `keep_known`, the face with the hole blanked (`mask` is 1 inside the hole, 0 where pixels are known).

`MaskMaker.windows` and `crop_windows` cut the inpainting discriminator's local window: the hole and some context.

Masks are boxes in the coordinates of the aligned 178x218 CelebA image (`regions` in params), mapped through the
prepare stage's crop box onto the S x S training faces; `random` draws one box per face from the face's key, so a
face always gets the same hole (evaluation is repeatable) while the training set sees many.
"""

import zlib

import numpy as np
import torch
import torch.nn.functional as F

from pipeline.errors import ParamsError


def average_pool(image: torch.Tensor, factor: int) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, H / factor, W / factor): the super-resolution renderer."""
    return F.avg_pool2d(image, factor)


def back_project(image: torch.Tensor, low: torch.Tensor, factor: int, iterations: int) -> torch.Tensor:
    """Iterative back-projection (Irani and Peleg 1991): `iterations` times, add the bicubic upsampling of what the
    renderer's view of `image` still misses of `low`. Moves `image` towards the faces whose average pooling is `low`
    with a smooth correction (no block grid), leaving the detail that pooling destroys to the generator."""
    for _ in range(iterations):
        miss = low - average_pool(image, factor)
        image = image + F.interpolate(miss, scale_factor=factor, mode="bicubic", align_corners=False)
    return image


def destroyed_detail(image: torch.Tensor, factor: int) -> torch.Tensor:
    """What `average_pool` cannot see: each pixel less the mean of its factor x factor block."""
    return image - F.interpolate(average_pool(image, factor), scale_factor=factor, mode="nearest")


def keep_known(image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The inpainting renderer: known pixels kept, the hole (mask = 1) set to 0."""
    return image * (1 - mask)


def box_to_face(box, crop_box, size: int) -> tuple[int, int, int, int]:
    """A box (x, y, w, h) in aligned-image pixels -> (x0, y0, x1, y1) in the S x S face, clipped to it."""
    x, y, w, h = box
    cx, cy, cw, ch = crop_box
    sx, sy = size / cw, size / ch
    x0, y0 = int(np.floor((x - cx) * sx)), int(np.floor((y - cy) * sy))
    x1, y1 = int(np.ceil((x + w - cx) * sx)), int(np.ceil((y + h - cy) * sy))
    return max(x0, 0), max(y0, 0), min(x1, size), min(y1, size)


class MaskMaker:
    """Hole masks (B, 1, S, S) for a batch of face keys: a named region, or a random box per face."""

    def __init__(self, region: str, regions: dict[str, list[int]], crop_box, size: int,
                 random_size: tuple[float, float] = (0.25, 0.5), where: str = "faces.inpaint"):
        if region != "random" and region not in regions:
            raise ParamsError(f"param {where}.mask: found {region!r}, expected random or one of the regions: "
                              f"{', '.join(regions)}")
        if not 0 < random_size[0] <= random_size[1] <= 1:
            raise ParamsError(f"param {where}.random_size: found {list(random_size)}, expected 0 < min <= max <= 1")
        self.region, self.size, self.random_size = region, size, random_size
        self.box = None if region == "random" else box_to_face(regions[region], crop_box, size)
        if self.box is not None and (self.box[2] <= self.box[0] or self.box[3] <= self.box[1]):
            raise ParamsError(f"param {where}.regions.{region}: {regions[region]} lies outside the crop box "
                              f"{list(crop_box)}")

    def box_for(self, key: str) -> tuple[int, int, int, int]:
        if self.box is not None:
            return self.box
        rng = np.random.default_rng(zlib.crc32(key.encode()))
        w, h = (int(round(self.size * rng.uniform(*self.random_size))) for _ in range(2))
        x0, y0 = int(rng.integers(0, self.size - w + 1)), int(rng.integers(0, self.size - h + 1))
        return x0, y0, x0 + w, y0 + h

    def window_size(self, margin: int) -> tuple[int, int]:
        """Width and height of a window holding the largest hole and `margin` pixels of context on each side."""
        if self.box is not None:
            width, height = self.box[2] - self.box[0], self.box[3] - self.box[1]
        else:
            width = height = int(round(self.size * self.random_size[1]))
        return min(width + 2 * margin, self.size), min(height + 2 * margin, self.size)

    def windows(self, keys: list[str], width: int, height: int) -> list[tuple[int, int]]:
        """Top-left corners of `width` x `height` windows centred on each key's hole, moved inside the face."""
        corners = []
        for key in keys:
            x0, y0, x1, y1 = self.box_for(key)
            corners.append((min(max((x0 + x1 - width) // 2, 0), self.size - width),
                            min(max((y0 + y1 - height) // 2, 0), self.size - height)))
        return corners

    def __call__(self, keys: list[str]) -> torch.Tensor:
        mask = torch.zeros(len(keys), 1, self.size, self.size)
        for i, key in enumerate(keys):
            x0, y0, x1, y1 = self.box_for(key)
            mask[i, :, y0:y1, x0:x1] = 1
        return mask


def crop_windows(images: torch.Tensor, corners: list[tuple[int, int]], width: int, height: int) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, height, width): each image's window at its top-left corner (x, y)."""
    return torch.stack([image[:, y:y + height, x:x + width] for image, (x, y) in zip(images, corners, strict=True)])
