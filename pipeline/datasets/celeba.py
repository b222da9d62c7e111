"""CelebA reader: `img_align_celeba/%06d.jpg`, `list_attr_celeba.txt`, `list_eval_partition.txt`.

`list_attr_celeba.txt`: line 1 the image count, line 2 the 40 attribute names, then `<file> <40 values of -1 or 1>`
separated by one or more spaces. `list_eval_partition.txt`: `<file> <0|1|2>` = train / validation / test.
The two lists are read in lockstep, one line at a time, so memory does not grow with the dataset.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.datasets.images import read_image
from pipeline.errors import DataError, ParamsError

ATTRIBUTES = (
    "5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive", "Bags_Under_Eyes", "Bald", "Bangs", "Big_Lips", "Big_Nose",
    "Black_Hair", "Blond_Hair", "Blurry", "Brown_Hair", "Bushy_Eyebrows", "Chubby", "Double_Chin", "Eyeglasses",
    "Goatee", "Gray_Hair", "Heavy_Makeup", "High_Cheekbones", "Male", "Mouth_Slightly_Open", "Mustache",
    "Narrow_Eyes", "No_Beard", "Oval_Face", "Pale_Skin", "Pointy_Nose", "Receding_Hairline", "Rosy_Cheeks",
    "Sideburns", "Smiling", "Straight_Hair", "Wavy_Hair", "Wearing_Earrings", "Wearing_Hat", "Wearing_Lipstick",
    "Wearing_Necklace", "Wearing_Necktie", "Young",
)
PARTITIONS = {0: "train", 1: "val", 2: "test"}
IMAGE_DIR = "img_align_celeba"
ATTR_FILE = "list_attr_celeba.txt"
PARTITION_FILE = "list_eval_partition.txt"


@dataclass(frozen=True)
class FaceRecord:
    file: str
    attributes: np.ndarray  # (40,) int8 of -1 / 1, in the order of the file's header
    partition: str  # train, val or test


def check_layout(root: str | Path) -> Path:
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: CelebA root not found (set celeba.root in params.yaml)")
    for name in (IMAGE_DIR, ATTR_FILE, PARTITION_FILE):
        if not (root / name).exists():
            raise DataError(f"{root / name}: not found (expected the CelebA layout: {IMAGE_DIR}/, {ATTR_FILE}, "
                            f"{PARTITION_FILE})")
    return root


def read_header(path: Path) -> tuple[int, tuple[str, ...]]:
    """(declared image count, attribute names) from the first two lines of the attribute file."""
    with open(path) as f:
        return _parse_header(path, f)


def _parse_header(path: Path, f) -> tuple[int, tuple[str, ...]]:
    first = f.readline().strip()
    if not first.isdigit():
        raise DataError(f"{path}:1: found {first[:40]!r}, expected the number of images")
    names = tuple(f.readline().split())
    if len(names) != len(ATTRIBUTES):
        raise DataError(f"{path}:2: found {len(names)} attribute names, expected {len(ATTRIBUTES)}")
    return int(first), names


def iter_records(root: str | Path) -> Iterator[FaceRecord]:
    """Every image's attributes and partition, in file order; checks that both lists name the same files."""
    root = check_layout(root)
    attr_path, part_path = root / ATTR_FILE, root / PARTITION_FILE
    with open(attr_path) as attrs, open(part_path) as parts:
        count, names = _parse_header(attr_path, attrs)
        seen = 0
        for number, line in enumerate(attrs, start=3):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != len(names) + 1:
                raise DataError(f"{attr_path}:{number}: found {len(fields) - 1} values, expected {len(names)}")
            try:
                values = np.array([int(v) for v in fields[1:]], np.int8)
            except ValueError:
                raise DataError(f"{attr_path}:{number}: found a non-integer value, expected -1 or 1") from None
            if not np.isin(values, (-1, 1)).all():
                raise DataError(f"{attr_path}:{number}: found values other than -1 and 1")
            part_line = parts.readline()
            part_number = seen + 1
            part_fields = part_line.split()
            if len(part_fields) != 2 or part_fields[1] not in ("0", "1", "2"):
                raise DataError(f"{part_path}:{part_number}: found {part_line.strip()[:60]!r}, "
                                f"expected '<file> <0|1|2>'")
            if part_fields[0] != fields[0]:
                raise DataError(f"{part_path}:{part_number}: names {part_fields[0]}, but {attr_path}:{number} names "
                                f"{fields[0]}; expected both lists in the same order")
            seen += 1
            yield FaceRecord(fields[0], values, PARTITIONS[int(part_fields[1])])
        if seen != count:
            raise DataError(f"{attr_path}: line 1 declares {count} images, found {seen} (truncated file?)")


def read_face(root: str | Path, file: str) -> np.ndarray:
    """(218, 178, 3) uint8 BGR for real CelebA; raises CorruptImage on undecodable files."""
    return read_image(Path(root) / IMAGE_DIR / file)


class AttributeFilter:
    """A named memory set: {attribute: -1 or 1}; an empty filter keeps every face."""

    def __init__(self, name: str, required: dict[str, int], names: tuple[str, ...], where: str):
        self.name = name
        self.columns = []
        for attribute, value in required.items():
            if attribute not in names:
                raise ParamsError(f"param {where}.{attribute}: no such attribute in {ATTR_FILE} "
                                  f"(expected one of {', '.join(names)})")
            if value not in (-1, 1):
                raise ParamsError(f"param {where}.{attribute}: found {value!r}, expected -1 or 1")
            self.columns.append((names.index(attribute), value))

    def __call__(self, attributes: np.ndarray) -> bool:
        return all(attributes[column] == value for column, value in self.columns)
