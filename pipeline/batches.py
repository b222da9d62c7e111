"""Endless, deterministic, resumable batches streamed from shards."""

from collections.abc import Callable, Iterator

import torch

from pipeline.errors import DataError
from pipeline.shards import open_shards


class BatchStream:
    """Batches of `batch_size` samples, epoch after epoch; epoch e is shuffled with seed `seed + e`.

    In a distributed run each process streams its own share of the samples (`open_shards(by_node=True)`), so
    `batch_size` is the per-process batch and every rank takes the same number of batches per step.

    `state()` is (epoch, batches taken in it); `restore(state)` rebuilds that epoch and skips what was taken, so an
    interrupted run sees the same batches as an uninterrupted one.
    """

    def __init__(self, urls: list[str], batch_size: int, collate: Callable[[list[dict]], dict], *,
                 shuffle: int = 1000, seed: int = 0, num_workers: int = 0):
        self.urls, self.batch_size, self.collate = urls, batch_size, collate
        self.shuffle, self.seed, self.num_workers = shuffle, seed, num_workers
        self.epoch, self.taken = 0, 0
        self._iterator: Iterator | None = None

    def _open(self) -> Iterator:
        dataset = open_shards(self.urls, shuffle=self.shuffle, seed=self.seed + self.epoch, by_node=True)
        dataset = dataset.batched(self.batch_size, collation_fn=self.collate, partial=False)  # full batches only
        loader = torch.utils.data.DataLoader(dataset, batch_size=None, num_workers=self.num_workers,
                                             pin_memory=torch.cuda.is_available(),
                                             persistent_workers=False)
        return iter(loader)

    def __iter__(self):
        return self

    def __next__(self) -> dict:
        for _ in range(2):
            if self._iterator is None:
                self._iterator = self._open()
            try:
                batch = next(self._iterator)
                self.taken += 1
                return batch
            except StopIteration:
                if self.taken == 0:
                    break
                self.epoch, self.taken, self._iterator = self.epoch + 1, 0, None
        raise DataError(f"{self.urls[0]}: fewer samples than one batch of {self.batch_size} in this split; lower the "
                        f"batch_size param or give the split more data (a looser memory set, more subjects)")

    def state(self) -> dict:
        return {"epoch": self.epoch, "taken": self.taken}

    def restore(self, state: dict) -> None:
        self.epoch, self.taken = state["epoch"], 0
        self._iterator = self._open()
        for _ in range(state["taken"]):
            next(self._iterator)
            self.taken += 1


def one_pass(urls: list[str], batch_size: int, collate: Callable[[list[dict]], dict]) -> Iterator[dict]:
    """Every sample once, in stored order, in batches (the last one may be smaller): for evaluation."""
    return iter(open_shards(urls).batched(batch_size, collation_fn=collate, partial=True))
