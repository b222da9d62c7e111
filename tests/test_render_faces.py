"""Face renderers (average pooling, the inpainting mask) and the image metrics, against hand-computed cases."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from pipeline.errors import ParamsError
from pipeline.image_metrics import detail_energy, psnr, ssim
from pipeline.render.faces import (
    MaskMaker,
    average_pool,
    back_project,
    box_to_face,
    crop_windows,
    destroyed_detail,
    keep_known,
)

CROP = (19, 39, 140, 140)


def test_average_pool_by_hand():
    image = torch.arange(16.0).reshape(1, 1, 4, 4)
    np.testing.assert_allclose(average_pool(image, 2)[0, 0].numpy(), [[2.5, 4.5], [10.5, 12.5]])
    assert average_pool(image, 4).item() == 7.5


def test_destroyed_detail_is_what_pooling_cannot_see():
    image = torch.arange(16.0).reshape(1, 1, 4, 4)
    detail = destroyed_detail(image, 2)
    np.testing.assert_allclose(detail[0, 0].numpy(), [[-2.5, -1.5, -2.5, -1.5], [1.5, 2.5, 1.5, 2.5]] * 2)
    assert average_pool(detail, 2).abs().max() == 0
    stripes = torch.tensor([1.0, 0.0] * 4).repeat(8, 1)[None, None]  # period 2: pooling over 2 erases it
    assert detail_energy(stripes, 2).item() == 0.25 and detail_energy(stripes.mT, 4).item() == 0.25
    assert detail_energy(torch.full((1, 3, 8, 8), 0.7), 4).item() == 0  # flat: no detail
    region = torch.zeros(1, 1, 8, 8)
    region[..., :4] = 1
    assert detail_energy(stripes * (1 - region), 2, region).item() == 0  # only the region counts


def test_back_projection_moves_a_face_onto_its_input_and_keeps_the_detail_pooling_destroys():
    torch.manual_seed(0)
    face = torch.rand(2, 3, 32, 32)
    low = average_pool(torch.rand(2, 3, 32, 32), 4)  # another face's view: the guess is far from consistent
    assert back_project(face, low, 4, 0) is face  # no iterations: the generator's face as it is
    misses = [(average_pool(back_project(face, low, 4, k), 4) - low).pow(2).mean().sqrt().item() for k in range(5)]
    assert all(later < 0.6 * earlier for earlier, later in zip(misses, misses[1:], strict=False))  # each step helps
    assert misses[3] < 0.1 * misses[0]  # three steps remove nine tenths of what the input says and the face misses
    corrected = back_project(face, low, 4, 3)
    # the correction is a bicubic upsampling: smooth, so the generator's sub-block detail survives nearly intact
    detail_change = (destroyed_detail(corrected, 4) - destroyed_detail(face, 4)).pow(2).mean()
    assert detail_change < 0.1 * destroyed_detail(face, 4).pow(2).mean()
    consistent = F.interpolate(low, scale_factor=4, mode="nearest")  # already pools to the input: left alone
    torch.testing.assert_close(back_project(consistent, low, 4, 3), consistent)


def test_keep_known_keeps_known_pixels():
    image = torch.rand(2, 3, 8, 8)
    mask = torch.zeros(2, 1, 8, 8)
    mask[:, :, 2:5, 3:7] = 1
    rendered = keep_known(image, mask)
    known = mask.expand_as(image) == 0
    assert torch.equal(rendered[known], image[known])
    assert (rendered[~known] == 0).all()


def test_box_to_face_maps_the_crop():
    # The crop box itself covers the whole face; a box half the crop's size at its centre maps to the centre.
    assert box_to_face(CROP, CROP, 64) == (0, 0, 64, 64)
    assert box_to_face((54, 74, 70, 70), CROP, 64) == (16, 16, 48, 48)
    assert box_to_face((0, 0, 30, 50), CROP, 64) == (0, 0, 6, 6)  # clipped to the face


def test_named_region_mask():
    masks = MaskMaker("mouth", {"mouth": [54, 74, 70, 70]}, CROP, 64)(["a", "b"])
    assert masks.shape == (2, 1, 64, 64)
    assert masks[:, :, 16:48, 16:48].eq(1).all() and masks.sum() == 2 * 32 * 32


def test_random_masks_are_repeatable_per_face_and_within_bounds():
    make = MaskMaker("random", {}, CROP, 64, random_size=(0.25, 0.5))
    keys = [f"{i:06d}" for i in range(50)]
    first, again = make(keys), make(keys)
    assert torch.equal(first, again)
    boxes = {make.box_for(k) for k in keys}
    assert len(boxes) > 40  # different faces, different holes
    for x0, y0, x1, y1 in boxes:
        assert 0 <= x0 < x1 <= 64 and 0 <= y0 < y1 <= 64
        assert 16 <= x1 - x0 <= 32 and 16 <= y1 - y0 <= 32


def test_windows_hold_the_hole_and_its_margin_inside_the_face():
    # Named region (16, 16)-(48, 48) with 4 pixels of context: a 40x40 window at (12, 12) for every face.
    named = MaskMaker("mouth", {"mouth": [54, 74, 70, 70]}, CROP, 64)
    assert named.window_size(4) == (40, 40)
    assert named.windows(["a", "b"], 40, 40) == [(12, 12), (12, 12)]
    assert named.window_size(40) == (64, 64)  # never larger than the face
    # Random holes: the largest hole (32) plus the margin, centred on each key's hole and moved inside the face.
    make = MaskMaker("random", {}, CROP, 64, random_size=(0.25, 0.5))
    keys = [f"{i:06d}" for i in range(50)]
    width, height = make.window_size(8)
    assert (width, height) == (48, 48)
    for key, (x, y) in zip(keys, make.windows(keys, width, height), strict=True):
        x0, y0, x1, y1 = make.box_for(key)
        assert 0 <= x <= x0 and x1 <= x + width <= 64
        assert 0 <= y <= y0 and y1 <= y + height <= 64


def test_crop_windows_by_hand():
    images = torch.arange(2 * 1 * 4 * 5, dtype=torch.float32).reshape(2, 1, 4, 5)
    crops = crop_windows(images, [(0, 0), (3, 1)], width=2, height=3)
    assert crops.shape == (2, 1, 3, 2)
    assert torch.equal(crops[0, 0], torch.tensor([[0.0, 1], [5, 6], [10, 11]]))
    assert torch.equal(crops[1, 0], torch.tensor([[28.0, 29], [33, 34], [38, 39]]))


def test_mask_errors_name_the_param():
    with pytest.raises(ParamsError, match=r"param faces.inpaint.mask: found 'chin', expected random or one of"):
        MaskMaker("chin", {"mouth": [58, 136, 62, 34]}, CROP, 64)
    with pytest.raises(ParamsError, match=r"param faces.inpaint.regions.hat: .* lies outside the crop box"):
        MaskMaker("hat", {"hat": [0, 0, 10, 10]}, CROP, 64)


def test_psnr_by_hand():
    a = torch.zeros(2, 3, 4, 4)
    b = a.clone()
    b[1] += 0.1  # MSE 0.01 -> 20 dB
    values = psnr(b, a)
    assert math.isinf(values[0]) and values[0] > 0  # identical images
    assert values[1].item() == pytest.approx(20.0)
    region = torch.zeros(2, 1, 4, 4)
    region[:, :, :2] = 1
    c = a.clone()
    c[:, :, 2:] = 0.5  # errors outside the region only
    assert math.isinf(psnr(c, a, region=region)[0])
    assert psnr(c, a, data_range=255.0)[0].item() == pytest.approx(10 * math.log10(255**2 / 0.125))


def test_ssim_by_hand():
    x = torch.rand(1, 3, 16, 16)
    assert ssim(x, x).item() == pytest.approx(1.0)
    # Constant images: only the luminance term is left, (2 mu_a mu_b + C1) / (mu_a^2 + mu_b^2 + C1).
    a, b = torch.full((1, 1, 12, 12), 0.2), torch.full((1, 1, 12, 12), 0.6)
    c1 = 0.01**2
    assert ssim(a, b).item() == pytest.approx((2 * 0.2 * 0.6 + c1) / (0.2**2 + 0.6**2 + c1))
    # A region keeps the windows (11 wide) centred inside it: noise in columns 11..15 is out of reach of the window
    # centred on column 5 and inside the window centred on column 10.
    noisy = x.clone()
    noisy[..., :, 11:] = torch.rand(1, 3, 16, 5)
    region = torch.zeros(1, 1, 16, 16)
    region[..., :, 5] = 1
    assert ssim(noisy, x, region=region).item() == pytest.approx(1.0)
    region[..., :, 10] = 1
    assert ssim(noisy, x, region=region).item() < 0.99


def test_ssim_map_is_the_gaussian_window_statistic_at_each_full_window():
    from pipeline.image_metrics import SSIM_SIGMA, SSIM_WINDOW, ssim_map

    generator = torch.Generator().manual_seed(0)
    x, y = torch.rand(1, 1, 13, 14, generator=generator), torch.rand(1, 1, 13, 14, generator=generator)
    values = ssim_map(x, y)
    assert values.shape == (1, 1, 13 - 10, 14 - 10)
    offsets = torch.arange(SSIM_WINDOW, dtype=torch.float64) - SSIM_WINDOW // 2
    g = torch.exp(-(offsets**2) / (2 * SSIM_SIGMA**2))
    weights = torch.outer(g, g) / g.sum() ** 2
    a, b = x[0, 0, 1:12, 2:13].double(), y[0, 0, 1:12, 2:13].double()  # the window centred on pixel (6, 7)
    ma, mb = (weights * a).sum(), (weights * b).sum()
    va, vb = (weights * a * a).sum() - ma**2, (weights * b * b).sum() - mb**2
    cov = (weights * a * b).sum() - ma * mb
    c1, c2 = 0.01**2, 0.03**2
    expected = ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma**2 + mb**2 + c1) * (va + vb + c2))
    assert values[0, 0, 1, 2].item() == pytest.approx(expected.item(), abs=1e-12)
