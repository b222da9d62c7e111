import shutil

import numpy as np
import pytest
import torch

from pipeline.datasets.celeba import (
    ATTR_FILE,
    ATTRIBUTES,
    PARTITION_FILE,
    AttributeFilter,
    iter_records,
    read_face,
    read_header,
)
from pipeline.datasets.images import CorruptImage
from pipeline.errors import DataError, ParamsError
from pipeline.prepare.celeba import crop_resize
from pipeline.render.faces import average_pool
from pipeline.synthetic.celeba import A, draw_face, sample_attributes


def test_records_follow_both_lists(celeba_root):
    records = list(iter_records(celeba_root))
    assert len(records) == 80
    assert records[0].file == "000001.jpg" and records[-1].file == "000080.jpg"
    assert [r.partition for r in records].count("test") == 8
    assert [r.partition for r in records].count("val") == 8
    assert all(r.attributes.shape == (40,) and set(np.unique(r.attributes)) <= {-1, 1} for r in records)
    count, names = read_header(celeba_root / ATTR_FILE)
    assert count == 80 and names == ATTRIBUTES


def test_read_face_is_aligned_celeba_size(celeba_root):
    assert read_face(celeba_root, "000003.jpg").shape == (218, 178, 3)


def test_attribute_filter_counts(celeba_root):
    _, names = read_header(celeba_root / ATTR_FILE)
    rows = np.loadtxt(celeba_root / ATTR_FILE, skiprows=2, usecols=range(1, 41), dtype=int)
    keep = AttributeFilter("female_young", {"Male": -1, "Young": 1}, names, "celeba.memory_sets.female_young")
    kept = sum(keep(r.attributes) for r in iter_records(celeba_root))
    expected = int(((rows[:, names.index("Male")] == -1) & (rows[:, names.index("Young")] == 1)).sum())
    assert kept == expected > 0
    everyone = AttributeFilter("all", {}, names, "celeba.memory_sets.all")
    assert sum(everyone(r.attributes) for r in iter_records(celeba_root)) == 80


def test_unknown_attribute_in_filter(celeba_root):
    _, names = read_header(celeba_root / ATTR_FILE)
    with pytest.raises(ParamsError, match=r"param celeba.memory_sets.big_nose.Big_Noze: no such attribute"):
        AttributeFilter("big_nose", {"Big_Noze": 1}, names, "celeba.memory_sets.big_nose")


def _copy(root, tmp_path):
    dst = tmp_path / "celeba"
    shutil.copytree(root, dst)
    return dst


def _edit_line(path, number, text):
    lines = path.read_text().splitlines(keepends=True)
    lines[number - 1] = text
    path.write_text("".join(lines))


@pytest.mark.parametrize("number, text, message", [
    (5, "000003.jpg  1 -1\n", r"list_attr_celeba.txt:5: found 2 values, expected 40"),
    (5, "000003.jpg " + " ".join(["1"] * 39) + " yes\n", r"list_attr_celeba.txt:5: found a non-integer value"),
    (5, "000003.jpg " + " ".join(["1"] * 39) + " 0\n", r"list_attr_celeba.txt:5: found values other than -1 and 1"),
    (1, "many\n", r"list_attr_celeba.txt:1: found 'many', expected the number of images"),
])
def test_malformed_attribute_file(celeba_root, tmp_path, number, text, message):
    root = _copy(celeba_root, tmp_path)
    _edit_line(root / ATTR_FILE, number, text)
    with pytest.raises(DataError, match=message):
        list(iter_records(root))


def test_attribute_values_separated_by_several_spaces_are_read(celeba_root):
    line = (celeba_root / ATTR_FILE).read_text().splitlines()[2]
    assert "  " in line  # the writer pads like the real file: "000001.jpg -1  1 ..."


def test_lists_out_of_order(celeba_root, tmp_path):
    root = _copy(celeba_root, tmp_path)
    _edit_line(root / PARTITION_FILE, 3, "000004.jpg 0\n")
    with pytest.raises(DataError, match=r"list_eval_partition.txt:3: names 000004.jpg, but .*:5 names 000003.jpg"):
        list(iter_records(root))


def test_truncated_attribute_file(celeba_root, tmp_path):
    root = _copy(celeba_root, tmp_path)
    lines = (root / ATTR_FILE).read_text().splitlines(keepends=True)
    (root / ATTR_FILE).write_text("".join(lines[:-5]))
    with pytest.raises(DataError, match="line 1 declares 80 images, found 75"):
        list(iter_records(root))


def test_missing_layout(tmp_path):
    (tmp_path / "img_align_celeba").mkdir()
    with pytest.raises(DataError, match="list_attr_celeba.txt: not found"):
        list(iter_records(tmp_path))


def test_corrupt_image(celeba_root, tmp_path):
    root = _copy(celeba_root, tmp_path)
    (root / "img_align_celeba" / "000002.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    with pytest.raises(CorruptImage, match="000002.jpg: unreadable or corrupt image"):
        read_face(root, "000002.jpg")


def _mean_region(faces, rows, name, region, positive):
    ys, xs = region
    chosen = [f[ys, xs].astype(np.float64) for f, r in zip(faces, rows, strict=True) if (r[A[name]] == 1) == positive]
    return np.mean(chosen, axis=0)


def test_synthetic_pixels_follow_attributes():
    rng = np.random.default_rng(5)
    rows = [sample_attributes(rng) for _ in range(300)]
    faces = [draw_face(r, rng) for r in rows]
    eyes = (slice(100, 122), slice(55, 125))
    # Glasses put dark rims around the eyes.
    assert _mean_region(faces, rows, "Eyeglasses", eyes, True).mean() < \
        _mean_region(faces, rows, "Eyeglasses", eyes, False).mean() - 10
    # Blond hair: the top of the head is yellow (high red and green against blue, BGR order).
    top = (slice(60, 80), slice(60, 120))
    blond = _mean_region(faces, rows, "Blond_Hair", top, True).mean(axis=(0, 1))
    black = _mean_region(faces, rows, "Black_Hair", top, True).mean(axis=(0, 1))
    assert blond[1:].mean() - blond[0] > 40 and black.mean() < blond.mean() - 60
    # Smiles with an open mouth show teeth: brighter mouth region.
    mouth = (slice(150, 160), slice(75, 105))
    assert _mean_region(faces, rows, "Mouth_Slightly_Open", mouth, True).max(axis=-1).mean() > \
        _mean_region(faces, rows, "Mouth_Slightly_Open", mouth, False).max(axis=-1).mean()
    # Big noses are wider and longer: a larger shaded area between the cheeks, relative to the cheeks.
    def nose_shadow(face):
        grey = face.astype(np.float64).mean(axis=-1)
        cheeks = np.r_[grey[118:130, 58:66].ravel(), grey[118:130, 112:120].ravel()].mean()
        return cheeks - grey[110:134, 76:102].mean()

    big = np.mean([nose_shadow(f) for f, r in zip(faces, rows, strict=True) if r[A["Big_Nose"]] == 1])
    small = np.mean([nose_shadow(f) for f, r in zip(faces, rows, strict=True) if r[A["Big_Nose"]] == -1])
    assert big > small + 3


def _pooled_share_of_difference(name: str, faces: int = 12) -> float:
    """Of the pixel difference a face shows with and without `name` (the same face otherwise), the energy share
    that survives 4x4 average pooling at the default crop and size: what a super-resolution input still shows."""
    total = visible = 0.0
    for i in range(faces):
        row = sample_attributes(np.random.default_rng(i))
        pair = []
        for value in (1, -1):
            row[A[name]] = value
            face = crop_resize(draw_face(row, np.random.default_rng(100 + i)), (19, 39, 140, 140), 64, "face")
            pair.append(torch.from_numpy(face).permute(2, 0, 1)[None].double())
        difference = pair[0] - pair[1]
        total += float((difference**2).sum())
        visible += float(4 * 4 * (average_pool(difference, 4) ** 2).sum())
    return visible / total


def test_wrinkles_live_above_the_super_resolution_input_nyquist_frequency():
    """Old faces differ from young ones by skin folds that 4x4 pooling erases; a big nose or glasses survive it."""
    assert _pooled_share_of_difference("Young") < 0.25
    assert _pooled_share_of_difference("Eyeglasses") > 0.5
