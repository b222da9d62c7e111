"""Preparation of raw datasets (real or synthetic) into webdataset shards: what every dataset shares."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import ClassVar

from pipeline.errors import DataError, ParamsError

SPLITS = ("inputs", "memory", "test")


@dataclass
class Splits:
    """Which subjects (or worlds) feed each split; a name may appear in one split only, unless a subclass lets the
    memory share the input subjects (the paper's setting for Human3.6M)."""

    inputs: list[str]
    memory: list[str]
    test: list[str]
    known: ClassVar[tuple[str, ...] | None] = None  # the valid names, when the dataset has a fixed set
    memory_may_share_inputs: ClassVar[bool] = False

    def check(self, where: str) -> None:
        seen = {}
        for split in SPLITS:
            names = getattr(self, split)
            if not names:
                raise ParamsError(f"param {where}.{split}: empty, expected at least one name")
            for name in names:
                if self.known is not None and name not in self.known:
                    raise ParamsError(f"param {where}.{split}: unknown name {name!r}, expected one of {self.known}")
                shared = split == "memory" and seen.get(name) == "inputs" and self.memory_may_share_inputs
                if name in seen and not shared:
                    raise ParamsError(f"param {where}.{split}: {name} is already in {seen[name]}")
                seen[name] = split

    def splits_of(self, name: str) -> list[str]:
        return [split for split in SPLITS if name in getattr(self, split)]


def write_split_samples(shards, split_samples: Iterable[tuple[str, dict]], stats: dict, progress) -> None:
    """Write (split, sample) pairs into a ShardSet, updating each split's statistics and the sample count."""
    for split, sample in split_samples:
        shards.write(split, sample)
        stats[split].update(sample)
        progress.advance()


def require_samples(shards, splits, describe: Callable[[str], str]) -> None:
    """Fail when a split received no sample: `describe(split)` says what the user asked for."""
    for split in splits:
        if shards.count(split) == 0:
            raise DataError(f"no samples for {describe(split)}, expected at least one")
