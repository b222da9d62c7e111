"""Evaluation metrics (NumPy). Poses are (N, J, 3) arrays in millimetres; results are in millimetres."""

from collections import defaultdict

import numpy as np


def mpjpe(pred: np.ndarray, gt: np.ndarray) -> float:
    """Mean per-joint position error: mean Euclidean distance over samples and joints, as given (no alignment)."""
    return float(np.linalg.norm(pred - gt, axis=-1).mean())


def procrustes_align(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Each predicted pose moved by the similarity (rotation, uniform scale, translation) that best fits its target.

    Orthogonal Procrustes with reflection excluded (Umeyama): (N, J, 3), (N, J, 3) -> (N, J, 3).
    """
    mu_p, mu_g = pred.mean(axis=1, keepdims=True), gt.mean(axis=1, keepdims=True)
    p, g = pred - mu_p, gt - mu_g
    norm_p = np.sqrt((p**2).sum(axis=(1, 2), keepdims=True))
    norm_g = np.sqrt((g**2).sum(axis=(1, 2), keepdims=True))
    p, g = p / np.maximum(norm_p, 1e-12), g / np.maximum(norm_g, 1e-12)
    U, s, Vt = np.linalg.svd(np.swapaxes(p, 1, 2) @ g)  # (N, 3, 3) cross-covariance of pred and gt
    sign = np.sign(np.linalg.det(U @ Vt))  # no reflections
    U[:, :, -1] *= sign[:, None]
    s[:, -1] *= sign
    R = U @ Vt  # pred @ R best matches gt
    scale = s.sum(axis=1)[:, None, None] * norm_g / np.maximum(norm_p, 1e-12)
    return scale * ((pred - mu_p) @ R) + mu_g


def p_mpjpe(pred: np.ndarray, gt: np.ndarray) -> float:
    """MPJPE after rigid alignment with scale (Procrustes) of each pose to its ground truth."""
    return mpjpe(procrustes_align(pred, gt), gt)


def n_mpjpe(pred: np.ndarray, gt: np.ndarray) -> float:
    """MPJPE after the optimal uniform scale of each (root-centred) prediction, as in Rhodin et al. 2018."""
    scale = (pred * gt).sum(axis=(1, 2)) / np.maximum((pred**2).sum(axis=(1, 2)), 1e-12)
    return mpjpe(pred * scale[:, None, None], gt)


def root_relative(poses: np.ndarray, root: int = 0) -> np.ndarray:
    return poses - poses[:, root:root + 1]


def per_sample_errors(pred: np.ndarray, gt: np.ndarray) -> dict[str, np.ndarray]:
    """MPJPE, P-MPJPE and N-MPJPE of each root-relative pose (N,), millimetres."""
    pred, gt = root_relative(pred), root_relative(gt)
    scale = (pred * gt).sum(axis=(1, 2)) / np.maximum((pred**2).sum(axis=(1, 2)), 1e-12)
    return {
        "mpjpe": np.linalg.norm(pred - gt, axis=-1).mean(axis=1),
        "p_mpjpe": np.linalg.norm(procrustes_align(pred, gt) - gt, axis=-1).mean(axis=1),
        "n_mpjpe": np.linalg.norm(pred * scale[:, None, None] - gt, axis=-1).mean(axis=1),
    }


class PoseErrorTable:
    """Streams batches of predictions and accumulates error sums per action; O(actions) memory."""

    NAMES = ("mpjpe", "p_mpjpe", "n_mpjpe")

    def __init__(self):
        self.sums = defaultdict(lambda: np.zeros(len(self.NAMES)))
        self.counts = defaultdict(int)

    def update(self, pred: np.ndarray, gt: np.ndarray, actions: list[str]) -> None:
        errors = per_sample_errors(pred, gt)
        stacked = np.stack([errors[name] for name in self.NAMES], axis=1)  # (N, 3)
        for action, row in zip(actions, stacked, strict=True):
            self.sums[action] += row
            self.counts[action] += 1

    def summary(self) -> dict:
        """`overall` averages samples, `average` averages the per-action means (the paper's table), both in mm."""
        if not self.counts:
            raise ValueError("no predictions were evaluated")
        per_action = {a: dict(zip(self.NAMES, np.round(self.sums[a] / self.counts[a], 2).tolist(), strict=True))
                      for a in sorted(self.counts)}
        total = sum(self.sums.values()) / sum(self.counts.values())
        average = np.mean([self.sums[a] / self.counts[a] for a in self.counts], axis=0)
        return {
            "overall": dict(zip(self.NAMES, np.round(total, 2).tolist(), strict=True)),
            "average": dict(zip(self.NAMES, np.round(average, 2).tolist(), strict=True)),
            "per_action": per_action,
            "samples": sum(self.counts.values()),
        }
