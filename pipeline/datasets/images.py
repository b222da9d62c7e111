"""Image files read with OpenCV; an unreadable or corrupt file raises `CorruptImage` so callers can skip it."""

from pathlib import Path

import cv2
import numpy as np

from pipeline.errors import DataError


class CorruptImage(DataError):
    """An image file exists but cannot be decoded."""


def read_image(path: Path, flags: int = cv2.IMREAD_COLOR) -> np.ndarray:
    """Decode an image file (BGR for colour, native dtype for IMREAD_UNCHANGED)."""
    if not path.is_file():
        raise DataError(f"{path}: image file not found")
    image = cv2.imread(str(path), flags)
    if image is None:
        raise CorruptImage(f"{path}: unreadable or corrupt image")
    return image


class CorruptTally:
    """Counts images skipped as corrupt; `check()` fails once their share exceeds the allowed fraction."""

    def __init__(self, max_fraction: float, param: str):
        self.max_fraction = max_fraction
        self.param = param
        self.total = 0
        self.skipped: list[str] = []

    def ok(self) -> None:
        self.total += 1

    def bad(self, err: CorruptImage) -> None:
        self.total += 1
        self.skipped.append(str(err))

    def check(self) -> None:
        if self.total and len(self.skipped) / self.total > self.max_fraction:
            raise DataError(f"{len(self.skipped)} of {self.total} images are corrupt, more than "
                            f"{self.param}={self.max_fraction} allows; first: {self.skipped[0]}")
