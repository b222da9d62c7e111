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


# ------------------------------------------------------------------------------------------ structure from motion

DEPTH_METRICS = ("abs_rel", "sq_rel", "rmse", "rmse_log", "a1", "a2", "a3")


DISTANCE_BINS = ((0.0, 10.0), (10.0, 20.0), (20.0, 40.0), (40.0, 80.0))  # metres of ground truth


def scaled_depths(pred: np.ndarray, gt: np.ndarray, max_depth: float = 80.0,
                  median_scaling: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pixels of one image the KITTI depth metrics judge: (prediction, truth, mask of those pixels in the image).

    Valid pixels have 0 < gt < max_depth. Monocular predictions know depth only up to scale: with `median_scaling`
    the prediction is first multiplied by median(gt) / median(pred) over the valid pixels (Zhou et al. 2017).
    Predictions are clipped to [1e-3, max_depth].
    """
    valid = (gt > 0) & (gt < max_depth)
    if not valid.any():
        raise ValueError("no valid ground-truth depth in this image")
    p, g = pred[valid].astype(np.float64), gt[valid].astype(np.float64)
    if median_scaling:
        p = p * np.median(g) / max(np.median(p), 1e-12)
    return np.clip(p, 1e-3, max_depth), g, valid


def depth_errors(pred: np.ndarray, gt: np.ndarray, max_depth: float = 80.0, median_scaling: bool = True) -> dict:
    """KITTI depth metrics of one image over the pixels `scaled_depths` keeps, in metres."""
    p, g, _ = scaled_depths(pred, gt, max_depth, median_scaling)
    ratio = np.maximum(p / g, g / p)
    return {
        "abs_rel": float(np.mean(np.abs(p - g) / g)),
        "sq_rel": float(np.mean((p - g) ** 2 / g)),
        "rmse": float(np.sqrt(np.mean((p - g) ** 2))),
        "rmse_log": float(np.sqrt(np.mean((np.log(p) - np.log(g)) ** 2))),
        "a1": float(np.mean(ratio < 1.25)),
        "a2": float(np.mean(ratio < 1.25**2)),
        "a3": float(np.mean(ratio < 1.25**3)),
    }


class DepthRegions:
    """AbsRel, delta < 1.25 and the mean log error (the prediction's bias: 0 unbiased, +0.2 about 22% too far) over
    all test pixels of a region (pixel-weighted): by ground-truth distance (`DISTANCE_BINS`), and by whether a
    pixel's true 3D point stays in view of frame 2 (the photometric loss sees it) or leaves it (only the prior can
    tell its depth)."""

    def __init__(self, max_depth: float):
        self.bins = [(lo, hi) for lo, hi in DISTANCE_BINS if lo < max_depth]
        # region -> (sum of AbsRel, pixels with delta < 1.25, sum of log(pred / truth), pixels)
        self.sums = defaultdict(lambda: np.zeros(4))

    def update(self, p: np.ndarray, g: np.ndarray, in_view: np.ndarray) -> None:
        """The judged pixels of one image (`scaled_depths`) and whether each stays in view of frame 2."""
        relative, good, log_error = np.abs(p - g) / g, np.maximum(p / g, g / p) < 1.25, np.log(p / g)
        regions = {f"{lo:g}-{hi:g}m": (g >= lo) & (g < hi) for lo, hi in self.bins}
        regions |= {"in_view": in_view, "leaves_view": ~in_view}
        for name, mask in regions.items():
            self.sums[name] += (relative[mask].sum(), good[mask].sum(), log_error[mask].sum(), mask.sum())

    def summary(self) -> dict:
        total = sum(self.sums[f"{lo:g}-{hi:g}m"][3] for lo, hi in self.bins)
        return {name: {"abs_rel": round(float(s[0] / s[3]), 4) if s[3] else None,
                       "a1": round(float(s[1] / s[3]), 4) if s[3] else None,
                       "log_bias": round(float(s[2] / s[3]), 4) if s[3] else None,
                       "pixel_share": round(float(s[3] / total), 4)}
                for name, s in self.sums.items()}


def log_depth_slope(p: np.ndarray, g: np.ndarray) -> float | None:
    """Least-squares slope of log predicted depth against log true depth over one image's judged pixels: 1 when
    near and far are in the right proportion, below 1 when the prediction compresses the scene's depth range (far
    too near relative to near). Free of the prediction's scale, and not biased by noise in the prediction. None
    when the ground truth holds a single depth (no slope to fit)."""
    log_g = np.log(g)
    centred = log_g - log_g.mean()
    spread = float((centred**2).sum())
    return float((centred * np.log(p)).sum() / spread) if spread > 0 else None


def umeyama(source: np.ndarray, target: np.ndarray, with_scale: bool) -> tuple[float, np.ndarray, np.ndarray]:
    """Similarity (s, R, t) minimising |target - (s R source + t)|^2 over points (N, 3) (Umeyama 1991)."""
    mu_s, mu_t = source.mean(axis=0), target.mean(axis=0)
    s_c, t_c = source - mu_s, target - mu_t
    covariance = t_c.T @ s_c / len(source)
    U, d, Vt = np.linalg.svd(covariance)
    sign = np.eye(3)
    if np.linalg.det(U) * np.linalg.det(Vt) < 0:
        sign[2, 2] = -1
    R = U @ sign @ Vt
    variance = (s_c**2).sum() / len(source)
    scale = float(np.trace(np.diag(d) @ sign) / variance) if with_scale and variance > 0 else 1.0
    return scale, R, mu_t - scale * R @ mu_s


def ate(pred: np.ndarray, gt: np.ndarray, align: str = "sim3") -> dict:
    """Absolute trajectory error of camera positions, metres, after aligning the predicted trajectory to the truth.

    `pred`, `gt`: (N, 4, 4) camera-to-world poses. `align`: "se3" (rotation + translation, Umeyama), "sim3" (and a
    scale, Umeyama) or "scale" (both trajectories start at the origin, one least-squares scale: SfMLearner's ATE on
    short snippets). Returns rmse, mean, median and max of the position errors.
    """
    p, g = pred[:, :3, 3].astype(np.float64), gt[:, :3, 3].astype(np.float64)
    if align in ("se3", "sim3"):
        s, R, t = umeyama(p, g, with_scale=align == "sim3")
        aligned = s * p @ R.T + t
    elif align == "scale":
        p, g = p - p[0], g - g[0]
        aligned = p * ((g * p).sum() / max((p**2).sum(), 1e-12))
    else:
        raise ValueError(f"align {align!r}: expected se3, sim3 or scale")
    errors = np.linalg.norm(aligned - g, axis=1)
    return {"rmse": float(np.sqrt(np.mean(errors**2))), "mean": float(errors.mean()),
            "median": float(np.median(errors)), "max": float(errors.max())}


def chain(motions) -> np.ndarray:
    """Relative motions (N, 4, 4), each taking camera-k points into camera k+1 -> the N+1 camera-to-world poses in
    the first camera's frame."""
    poses = [np.eye(4)]
    for motion in motions:
        poses.append(poses[-1] @ np.linalg.inv(motion))
    return np.stack(poses)


def snippet_ate(predicted, true) -> float:
    """ATE (rmse, metres) of one snippet of consecutive relative motions, the prediction scaled to the truth by least
    squares (SfMLearner's protocol)."""
    return ate(chain(predicted), chain(true), "scale")["rmse"]


def rotation_error_deg(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Angle (degrees) of pred^T gt for rotation matrices (N, 3, 3)."""
    cos = (np.trace(np.swapaxes(pred, 1, 2) @ gt, axis1=1, axis2=2) - 1) / 2
    return np.degrees(np.arccos(np.clip(cos, -1, 1)))


def translation_direction_error_deg(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Angle (degrees) between translation vectors (N, 3): monocular translation is known up to scale only."""
    cos = (pred * gt).sum(-1) / np.maximum(np.linalg.norm(pred, axis=-1) * np.linalg.norm(gt, axis=-1), 1e-12)
    return np.degrees(np.arccos(np.clip(cos, -1, 1)))


class SfmErrorTable:
    """Streams test pairs: depth metrics per image (averaged), the depth's layout (`log_depth_slope` per image,
    averaged, and its mean distance from 1: the scale drift between near and far), motion errors per pair, and ATE
    over snippets of `snippet` consecutive frames (SfMLearner's protocol: chain the predicted relative motions, fit
    one scale per snippet). Memory: the metric sums plus two 4x4 matrices per pair."""

    def __init__(self, max_depth: float = 80.0, median_scaling: bool = True, snippet: int = 5):
        self.max_depth, self.median_scaling, self.snippet = max_depth, median_scaling, snippet
        self.depth_sums = np.zeros(len(DEPTH_METRICS))
        self.regions = DepthRegions(max_depth)
        self.images = 0
        # over the images with a slope: the sums of log_depth_slope and of its distance from 1, and their count
        self.slope_sums = np.zeros(3)
        self.rotation, self.direction = [], []
        self.motions = defaultdict(list)  # (world, variation) -> [(frame, predicted, true)]

    def update(self, pred_depth: np.ndarray, gt_depth: np.ndarray, pred_motion: np.ndarray, gt_motion: np.ndarray,
               meta: list[dict], in_view: np.ndarray) -> None:
        """Depths (B, H, W) metres; motions (B, 4, 4) taking frame-1 points into frame 2; meta per pair; in_view
        (B, H, W): whether each pixel's true 3D point lands in view of frame 2 (`render.warp.landing`)."""
        for i in range(len(meta)):
            errors = depth_errors(pred_depth[i], gt_depth[i], self.max_depth, self.median_scaling)
            self.depth_sums += [errors[name] for name in DEPTH_METRICS]
            p, g, valid = scaled_depths(pred_depth[i], gt_depth[i], self.max_depth, self.median_scaling)
            self.regions.update(p, g, in_view[i][valid])
            slope = log_depth_slope(p, g)
            if slope is not None:
                self.slope_sums += (slope, abs(1.0 - slope), 1)
            self.images += 1
            self.motions[(meta[i]["world"], meta[i]["variation"])].append((meta[i]["frame1"], pred_motion[i],
                                                                          gt_motion[i]))
        self.rotation.extend(rotation_error_deg(pred_motion[:, :3, :3], gt_motion[:, :3, :3]))
        self.direction.extend(translation_direction_error_deg(pred_motion[:, :3, 3], gt_motion[:, :3, 3]))

    def _snippet_ates(self) -> list[float]:
        found = []
        for pairs in self.motions.values():
            pairs.sort(key=lambda p: p[0])
            for start in range(len(pairs) - self.snippet + 2):
                chunk = pairs[start:start + self.snippet - 1]
                if chunk[-1][0] - chunk[0][0] != len(chunk) - 1:  # not consecutive frames
                    continue
                found.append(snippet_ate([p[1] for p in chunk], [p[2] for p in chunk]))
        return found

    def summary(self) -> dict:
        if not self.images:
            raise ValueError("no predictions were evaluated")
        ates = self._snippet_ates()
        return {
            "depth": dict(zip(DEPTH_METRICS, np.round(self.depth_sums / self.images, 4).tolist(), strict=True)),
            "depth_by_region": self.regions.summary(),
            "layout": {name: round(float(total / self.slope_sums[2]), 4) if self.slope_sums[2] else None
                       for name, total in zip(("log_slope", "scale_drift"), self.slope_sums[:2], strict=True)},
            "motion": {"rotation_error_deg": round(float(np.mean(self.rotation)), 4),
                       "translation_direction_error_deg": round(float(np.mean(self.direction)), 3),
                       "ate_rmse_m": round(float(np.mean(ates)), 4) if ates else None,
                       "ate_snippets": len(ates)},
            "samples": self.images,
            "median_scaling": self.median_scaling,
            "max_depth": self.max_depth,
        }
