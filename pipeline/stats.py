"""Streaming statistics for manifests: mean and standard deviation per channel without holding the data."""

import numpy as np


class RunningStats:
    """Accumulates sums of x and x**2 per channel (last axis) in float64; O(channels) memory."""

    def __init__(self):
        self.n = 0
        self.sum = None
        self.sumsq = None

    def update(self, values: np.ndarray) -> None:
        flat = np.asarray(values, np.float64).reshape(-1, np.shape(values)[-1])
        if self.sum is None:
            self.sum = np.zeros(flat.shape[1])
            self.sumsq = np.zeros(flat.shape[1])
        self.n += flat.shape[0]
        self.sum += flat.sum(axis=0)
        self.sumsq += np.square(flat).sum(axis=0)

    def summary(self, decimals: int = 4) -> dict:
        if self.n == 0:
            return {"count": 0}
        mean = self.sum / self.n
        std = np.sqrt(np.maximum(self.sumsq / self.n - mean**2, 0.0))
        return {"count": self.n, "mean": np.round(mean, decimals).tolist(), "std": np.round(std, decimals).tolist()}
