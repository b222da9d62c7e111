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


def pose_errors(pred: np.ndarray, gt: np.ndarray, actions: list[str]) -> dict:
    """MPJPE, P-MPJPE and N-MPJPE of root-relative poses, overall and per action (mm, rounded to 0.01)."""
    pred, gt = root_relative(pred), root_relative(gt)
    by_action = defaultdict(list)
    for index, action in enumerate(actions):
        by_action[action].append(index)
    result = {"overall": {}, "per_action": {}}
    for name, fn in (("mpjpe", mpjpe), ("p_mpjpe", p_mpjpe), ("n_mpjpe", n_mpjpe)):
        result["overall"][name] = round(fn(pred, gt), 2)
        for action, indices in sorted(by_action.items()):
            result["per_action"].setdefault(action, {})[name] = round(fn(pred[indices], gt[indices]), 2)
    result["overall"]["samples"] = len(actions)
    return result
