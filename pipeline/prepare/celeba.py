"""CelebA -> shards: aligned faces cropped and resized, with their 40 attributes.

Splits: `inputs` (train partition outside the memory pool), `val`, `test`; and, in a shard folder per **memory
set**, the faces of the train partition inside the memory pool that pass the set's attribute filter. The pool is a
stable hash split of the train partition (`memory_fraction`), so memories are never paired with inputs, and changing
one memory set rewrites only that set's shards.

Sample fields (key = file stem, e.g. `000123`): `image.png` (S, S, 3) uint8 BGR, `attributes.npy` (40,) int8 of
-1 / 1, `meta.json` {file, partition}.
"""

import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field

import cv2
import numpy as np

from pipeline.datasets.celeba import FaceRecord, read_face
from pipeline.datasets.images import CorruptImage, CorruptTally
from pipeline.errors import DataError, ParamsError
from pipeline.stats import RunningStats


@dataclass
class PrepareCeleba:
    root: str
    size: int = 64
    crop_box: tuple[int, int, int, int] = (19, 39, 140, 140)  # x, y, width, height in the aligned 178x218 image
    memory_fraction: float = 0.5
    max_corrupt_fraction: float = 0.01
    shard_max_samples: int = 10000
    memory_sets: dict[str, dict[str, int]] = field(default_factory=lambda: {"all": {}})

    def check(self, where: str) -> None:
        if self.size < 4:
            raise ParamsError(f"param {where}.size: found {self.size}, expected at least 4")
        if not 0 < self.memory_fraction < 1:
            raise ParamsError(f"param {where}.memory_fraction: found {self.memory_fraction}, expected in (0, 1)")
        if min(self.crop_box[2:]) < 1 or min(self.crop_box[:2]) < 0:
            raise ParamsError(f"param {where}.crop_box: found {list(self.crop_box)}, expected x, y >= 0, w, h >= 1")


def in_memory_pool(file: str, fraction: float) -> bool:
    """Stable assignment of a train face to the memory pool (the same on every machine and run)."""
    return zlib.crc32(file.encode()) / 2**32 < fraction


def crop_resize(image: np.ndarray, box, size: int, path: str) -> np.ndarray:
    x, y, w, h = box
    if y + h > image.shape[0] or x + w > image.shape[1]:
        raise DataError(f"{path}: image is {image.shape[1]}x{image.shape[0]}, crop_box {list(box)} does not fit "
                        f"(expected aligned 178x218 CelebA images)")
    return cv2.resize(image[y:y + h, x:x + w], (size, size), interpolation=cv2.INTER_AREA)


class FaceStats:
    """Manifest statistics of a split: per-channel pixel mean/std (BGR, 0..255) and attribute rates."""

    def __init__(self, names):
        self.names = names
        self.pixels = RunningStats()
        self.attributes = RunningStats()

    def update(self, sample: dict) -> None:
        self.pixels.update(sample["image.png"].reshape(-1, 3))
        self.attributes.update((sample["attributes.npy"][None] == 1).astype(np.float64))

    def summary(self) -> dict:
        pixels = self.pixels.summary(2)
        rates = self.attributes.summary(4).get("mean", [])
        return {"pixels_bgr": pixels, "attribute_rate": dict(zip(self.names, rates, strict=False))}


def face_samples(cfg: PrepareCeleba, records: Iterable[FaceRecord], route, tally: CorruptTally, progress):
    """(split, sample) for each record that `route(record)` sends to a split; corrupt images are skipped."""
    for record in records:
        progress.step()
        split = route(record)
        if split is None:
            continue
        try:
            image = read_face(cfg.root, record.file)
        except CorruptImage as err:
            tally.bad(err)
            continue
        tally.ok()
        stem = record.file.rsplit(".", 1)[0]
        yield split, {
            "__key__": stem,
            "image.png": crop_resize(image, cfg.crop_box, cfg.size, record.file),
            "attributes.npy": record.attributes,
            "meta.json": {"file": record.file, "partition": record.partition},
        }


def route_main(cfg: PrepareCeleba):
    """Main splits: train faces outside the memory pool -> inputs; val -> val; test -> test."""
    def route(record: FaceRecord):
        if record.partition == "train":
            return None if in_memory_pool(record.file, cfg.memory_fraction) else "inputs"
        return record.partition
    return route


def route_memory(cfg: PrepareCeleba, keep):
    """Memory split: train faces inside the memory pool that pass the attribute filter `keep`."""
    def route(record: FaceRecord):
        pooled = record.partition == "train" and in_memory_pool(record.file, cfg.memory_fraction)
        return "memory" if pooled and keep(record.attributes) else None
    return route
