"""The PCA shape basis of 3D poses, in a canonical body frame.

Canonical frame of a 17-joint pose (root-centred, millimetres): y points from the thorax down to the hip (image
"down" for an upright person), x along the hips from right to left (orthogonalised against y), z = x cross y (the
body's back). A person facing a camera upright is already canonical in that camera's frame, so the identity rotation
is the natural start for a generator. A pose is `x3D = R (mean + sum_j a_j B_j)`; components are scaled by their
standard deviations so that coefficients of memory poses have unit variance.
"""

from dataclasses import dataclass

import numpy as np
import torch

HIP, R_HIP, L_HIP, THORAX = 0, 1, 4, 8


def canonical_rotation(poses: torch.Tensor) -> torch.Tensor:
    """Rotations (N, 3, 3) whose rows are the canonical axes of each pose (N, J, 3): canonical = R @ pose.

    Differentiable, and a proper rotation: a mirrored pose keeps its mirror image in the canonical frame (a knee
    bent backwards stays bent backwards), which is what lets a discriminator see depth reflections.
    """
    down = torch.nn.functional.normalize(poses[:, HIP] - poses[:, THORAX], dim=-1)
    across = poses[:, L_HIP] - poses[:, R_HIP]
    across = torch.nn.functional.normalize(across - (across * down).sum(-1, keepdim=True) * down, dim=-1)
    back = torch.cross(across, down, dim=-1)
    return torch.stack([across, down, back], dim=1)


def to_canonical(poses):
    """Root-centred poses (N, J, 3) rotated into their canonical frame (NumPy or torch in, the same out)."""
    is_numpy = isinstance(poses, np.ndarray)
    x = torch.from_numpy(poses) if is_numpy else poses
    centred = x - x[:, HIP:HIP + 1]
    out = centred @ canonical_rotation(centred).transpose(1, 2)
    return out.numpy() if is_numpy else out


@dataclass
class ShapeBasis:
    mean: np.ndarray  # (J, 3)
    components: np.ndarray  # (K, J, 3), each scaled by its standard deviation
    explained_variance_ratio: np.ndarray  # (K,)

    @property
    def size(self) -> int:
        return self.components.shape[0]

    def save(self, path) -> None:
        np.savez(path, mean=self.mean, components=self.components,
                 explained_variance_ratio=self.explained_variance_ratio)

    @classmethod
    def load(cls, path) -> "ShapeBasis":
        with np.load(path) as data:
            return cls(data["mean"], data["components"], data["explained_variance_ratio"])


class BasisAccumulator:
    """Streaming PCA: sums of canonical poses and of their outer products, O((3J)^2) memory for any dataset."""

    def __init__(self):
        self.n = 0
        self.sum = None
        self.outer = None

    def update(self, poses: np.ndarray) -> None:
        """Add a batch of camera- or world-frame poses (N, J, 3), millimetres."""
        flat = to_canonical(np.asarray(poses, np.float64)).reshape(len(poses), -1)
        if self.sum is None:
            self.sum = np.zeros(flat.shape[1])
            self.outer = np.zeros((flat.shape[1], flat.shape[1]))
        self.n += len(flat)
        self.sum += flat.sum(axis=0)
        self.outer += flat.T @ flat

    def fit(self, components: int) -> ShapeBasis:
        dims = 0 if self.sum is None else len(self.sum)
        if not 0 < components <= min(self.n, dims):
            raise ValueError(f"cannot keep {components} components of {self.n} poses with {dims} coordinates")
        mean = self.sum / self.n
        covariance = self.outer / self.n - np.outer(mean, mean)
        variance, vectors = np.linalg.eigh(covariance)  # ascending
        order = np.argsort(variance)[::-1]
        variance, vectors = np.clip(variance[order], 0, None), vectors[:, order]
        # Fix each component's sign (eigenvectors are defined up to sign) so the basis is reproducible.
        vectors *= np.where(vectors[np.abs(vectors).argmax(axis=0), np.arange(len(order))] < 0, -1, 1)
        std = np.sqrt(variance[:components])
        joints = dims // 3
        return ShapeBasis(mean.reshape(joints, 3), (vectors[:, :components].T * std[:, None]).reshape(-1, joints, 3),
                          variance[:components] / variance.sum())


def fit_basis(poses: np.ndarray, components: int) -> ShapeBasis:
    """PCA of poses (N, J, 3) in their canonical frame, keeping `components` directions."""
    accumulator = BasisAccumulator()
    accumulator.update(poses)
    return accumulator.fit(components)
