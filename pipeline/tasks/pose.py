"""3D human pose AIGN: heatmaps -> R (mean + sum_j a_j B_j) -> projection -> heatmaps.

The generator predicts the root-relative pose in the camera frame through a rotation and shape-basis coefficients.
The renderer places it with the translation that best explains the observed 2D keypoints (closed-form least
squares), projects it with the sample's camera (distortion included) into the crop, and draws Gaussian heatmaps
that are compared with the input heatmaps.
"""

from dataclasses import dataclass, field

import numpy as np
import torch

from pipeline.models.pose import PoseDiscriminator, PoseGenerator
from pipeline.pose_basis import ShapeBasis
from pipeline.render.heatmaps import from_uint8_tiles, gaussian_blur
from pipeline.render.pose import render_heatmaps, solve_translation

MM_PER_M = 1000.0


@dataclass
class PoseModel:
    """params.yaml pose.model."""

    width: int = 32
    input_size: int = 32  # heatmaps are average-pooled to this size for the encoder
    render_size: int = 32  # the renderer draws heatmaps at this size; the inputs are average-pooled to match
    blur_sigmas: list[float] = field(default_factory=lambda: [4.0])  # extra, blurred comparisons (render pixels)
    disc_hidden: int = 256


def collate_inputs(samples: list[dict]) -> dict:
    """Input samples -> tensors: heatmaps (B, J, S, S), keypoints (B, J, 2), crop (B, 3), camera (B, 9),
    pose3d (B, J, 3) mm (evaluation and the supervised baseline only), actions, keys."""
    joints = samples[0]["pose3d.npy"].shape[0]
    heatmaps = np.stack([from_uint8_tiles(s["heatmaps.png"], joints) for s in samples])
    return {
        "heatmaps": torch.from_numpy(heatmaps),
        "keypoints": torch.from_numpy(np.stack([s["keypoints.npy"] for s in samples])),
        "crop": torch.from_numpy(np.stack([s["crop.npy"] for s in samples])),
        "camera": torch.from_numpy(np.stack([s["camera.npy"] for s in samples])),
        "pose3d": torch.from_numpy(np.stack([s["pose3d.npy"] for s in samples])),
        "actions": [s["meta.json"]["action"] for s in samples],
        "keys": [s["__key__"] for s in samples],
    }


def collate_memory(samples: list[dict]) -> dict:
    return {"pose3d": torch.from_numpy(np.stack([s["pose3d.npy"] for s in samples]))}


class PoseTask:
    """`heatmap_size` and `heatmap_sigma` describe the input heatmaps (from the shard manifest)."""

    def __init__(self, basis: ShapeBasis, model: PoseModel, heatmap_size: int, heatmap_sigma: float):
        self.mean = torch.as_tensor(basis.mean, dtype=torch.float32)  # (J, 3) mm, canonical frame
        self.components = torch.as_tensor(basis.components, dtype=torch.float32)  # (K, J, 3)
        self.model, self.heatmap_size = model, heatmap_size
        self.pool = heatmap_size // model.render_size
        # Average pooling by p turns a Gaussian of sigma s into about sqrt((s/p)^2 + 1/12) (the box's variance).
        self.render_sigma = float(np.sqrt((heatmap_sigma / self.pool) ** 2 + (1 / 12 if self.pool > 1 else 0)))

    def build(self) -> tuple[PoseGenerator, PoseDiscriminator]:
        joints = self.mean.shape[0]
        generator = PoseGenerator(joints, self.components.shape[0], self.model.width, self.heatmap_size,
                                  self.model.input_size)
        return generator, PoseDiscriminator(joints, self.model.disc_hidden)

    def predict(self, generator: PoseGenerator, batch: dict) -> torch.Tensor:
        """Root-relative poses (B, J, 3) in the camera frame, millimetres."""
        rotation, coefficients = generator(batch["heatmaps"])
        mean, components = self.mean.to(coefficients.device), self.components.to(coefficients.device)
        shape = mean + torch.einsum("bk,kjc->bjc", coefficients.float(), components)  # canonical frame
        return shape @ rotation.float().transpose(1, 2)  # x_cam = R x_canonical, as row vectors

    def reconstruction_loss(self, pose: torch.Tensor, batch: dict) -> torch.Tensor:
        """Mean squared heatmap error, at the data's sharpness and after each extra blur (the renderer draws the
        blurred heatmaps exactly, the observed ones are convolved): blurred terms still pull keypoints that landed
        far from their targets."""
        placed = pose + solve_translation(pose, batch["keypoints"], batch["camera"])[:, None]
        observed = torch.nn.functional.avg_pool2d(batch["heatmaps"], self.pool) if self.pool > 1 else batch["heatmaps"]
        loss = 0.0
        for blur in (0.0, *self.model.blur_sigmas):
            rendered = render_heatmaps(placed, batch["camera"], batch["crop"], self.model.render_size,
                                       self.render_sigma, blur)
            loss = loss + ((rendered - gaussian_blur(observed, blur)) ** 2).mean()
        return loss * 100  # x100: heatmap errors are small numbers

    def supervised_loss(self, pose: torch.Tensor, batch: dict) -> torch.Tensor:
        target = batch["pose3d"] - batch["pose3d"][:, :1]
        return (((pose - target) / MM_PER_M) ** 2).sum(-1).mean()

    def fake(self, pose: torch.Tensor) -> torch.Tensor:
        return pose / MM_PER_M

    def real(self, memory: dict) -> torch.Tensor:
        return (memory["pose3d"] - memory["pose3d"][:, :1]) / MM_PER_M
