"""3D human pose AIGN: heatmaps -> R (mean + sum_j a_j B_j) -> projection -> heatmaps.

The generator predicts the root-relative pose through a rotation relative to the viewing ray of the root joint and
shape-basis coefficients. The renderer places the pose with the translation that best puts every joint on its
observed viewing ray (closed-form least squares), projects it with the sample's camera (distortion included) into the
crop and draws Gaussian heatmaps. The reconstruction loss compares them with the input heatmaps, and compares the
projected joints with the observed 2D keypoints: a heatmap comparison is blind to a joint that has left its
Gaussian's reach, the keypoint term still pulls it back from anywhere.
"""

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from pipeline.aign import TrainConfig
from pipeline.config import parse
from pipeline.models.pose import PoseDiscriminator, PoseGenerator
from pipeline.pose_basis import ShapeBasis, canonical_rotation
from pipeline.render.camera import project, ray_rotation, undistort
from pipeline.render.heatmaps import from_uint8_tiles, gaussian_blur
from pipeline.render.pose import heatmap_mse, solve_translation, to_crop
from pipeline.shards import read_manifest, sha256_file
from pipeline.tasks.plugin import LoadParams, Task, TaskPlugin

MM_PER_M = 1000.0
ROOT = 0  # the hip


@dataclass
class PoseModel:
    """params.yaml pose.model."""

    hidden: int = 1024  # width of the generator's residual MLP
    blocks: int = 2  # its residual blocks
    render_size: int = 32  # the renderer draws heatmaps at this size; the inputs are average-pooled to match
    blur_sigmas: list[float] = field(default_factory=lambda: [4.0])  # extra, blurred comparisons (render pixels)
    reprojection: float = 1.0  # weight of the keypoint reprojection term of the reconstruction loss
    disc_hidden: int = 256
    memory_in_basis: bool = True  # the discriminator sees memory poses projected onto the generator's shape basis


class PosePrediction(NamedTuple):
    pose: torch.Tensor  # (B, J, 3) root-relative, camera frame, mm
    ray_frame: torch.Tensor  # (B, J, 3) the same pose in the frame of the root's viewing ray, mm
    translation: torch.Tensor  # (B, 3) where the renderer places the root, camera frame, mm


def collate_inputs(samples: list[dict]) -> dict:
    """Input samples -> tensors: heatmaps (B, J, S, S), keypoints (B, J, 2), crop (B, 3), camera (B, 9),
    pose3d (B, J, 3) mm (evaluation and the supervised baseline only), actions, keys."""
    joints = samples[0]["pose3d.npy"].shape[0]
    heatmaps = from_uint8_tiles(np.stack([s["heatmaps.png"] for s in samples]), joints)
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


def ray_frame(pose: torch.Tensor, rays: torch.Tensor) -> torch.Tensor:
    """Root-relative camera-frame poses (B, J, 3) -> the frame whose z axis is the viewing ray (B, 2) of the root."""
    return pose @ ray_rotation(rays)  # rows: x_ray = R^T x_cam


class BasisBuffers(torch.nn.Module):
    """The shape basis as buffers, moved to the training device once with the task."""

    def __init__(self, basis: ShapeBasis):
        super().__init__()
        self.register_buffer("mean", torch.as_tensor(basis.mean, dtype=torch.float32))  # (J, 3) mm, canonical frame
        self.register_buffer("components", torch.as_tensor(basis.components, dtype=torch.float32))  # (K, J, 3)


class PoseTask(Task):
    """`heatmap_size` and `heatmap_sigma` describe the input heatmaps (from the shard manifest)."""

    channels_last = False  # MLPs over joint coordinates: nothing convolves, and the heatmaps' centroids want NCHW

    def __init__(self, basis: ShapeBasis, model: PoseModel, heatmap_size: int, heatmap_sigma: float):
        self.basis = BasisBuffers(basis)
        self.model, self.heatmap_size = model, heatmap_size
        self.pool = heatmap_size // model.render_size
        # Average pooling by p turns a Gaussian of sigma s into about sqrt((s/p)^2 + 1/12) (the box's variance).
        self.render_sigma = float(np.sqrt((heatmap_sigma / self.pool) ** 2 + (1 / 12 if self.pool > 1 else 0)))

    def to(self, device: torch.device) -> "PoseTask":
        self.basis.to(device)
        return self

    def build(self) -> tuple[PoseGenerator, PoseDiscriminator]:
        joints, components = self.basis.mean.shape[0], self.basis.components.shape[0]
        generator = PoseGenerator(joints, components, self.model.hidden, self.model.blocks)
        return generator, PoseDiscriminator(joints, self.model.disc_hidden)

    def predict(self, generator: PoseGenerator, batch: dict) -> PosePrediction:
        camera = batch["camera"].float()
        rays = undistort(batch["keypoints"].float(), camera)  # (B, J, 2) the observed joints' viewing rays
        # Where the person is: the root's ray and the crop's side, in normalised camera coordinates.
        geometry = torch.cat([rays[:, ROOT], batch["crop"][:, 2:3] / camera[:, 0:1]], 1)
        rotation, coefficients = generator(batch["heatmaps"], geometry)
        mean, components = self.basis.mean, self.basis.components
        shape = mean + torch.einsum("bk,kjc->bjc", coefficients.float(), components)  # canonical frame
        local = shape @ rotation.float().transpose(1, 2)  # ray frame: x = R x_canonical, as row vectors
        pose = local @ ray_rotation(rays[:, ROOT]).transpose(1, 2)  # camera frame
        return PosePrediction(pose, local, solve_translation(pose, rays))

    def reconstruction_loss(self, prediction: PosePrediction, batch: dict) -> torch.Tensor:
        """Mean squared heatmap error at the data's sharpness and after each extra blur (the renderer draws the
        blurred heatmaps exactly, the observed ones are convolved), plus the keypoint reprojection error (crop
        widths, pseudo-Huber: quadratic below 1% of the crop, linear beyond) weighted by `reprojection`."""
        size, camera = self.model.render_size, batch["camera"].float()
        placed = prediction.pose + prediction.translation[:, None]
        coords = to_crop(project(placed, camera), batch["crop"], size)  # (B, J, 2)
        observed = torch.nn.functional.avg_pool2d(batch["heatmaps"], self.pool) if self.pool > 1 else batch["heatmaps"]
        loss = 0.0
        for blur in (0.0, *self.model.blur_sigmas):  # x100: small numbers
            loss = loss + heatmap_mse(coords, gaussian_blur(observed, blur), self.render_sigma, blur) * 100
        target = to_crop(batch["keypoints"].float(), batch["crop"], size)
        error = (coords - target).norm(dim=-1) / size  # (B, J) crop widths
        delta = 0.01
        return loss + self.model.reprojection * (torch.sqrt(error**2 + delta**2) - delta).mean()

    def supervised_loss(self, prediction: PosePrediction, batch: dict) -> torch.Tensor:
        target = batch["pose3d"] - batch["pose3d"][:, :1]
        return (((prediction.pose - target) / MM_PER_M) ** 2).sum(-1).mean()

    def fake(self, prediction: PosePrediction, batch: dict) -> torch.Tensor:
        return prediction.ray_frame / MM_PER_M

    def real(self, memory: dict) -> torch.Tensor:
        """Memory poses (camera frame, absolute) in their root's viewing-ray frame, root-relative, metres."""
        pose = memory["pose3d"]
        root = pose[:, ROOT]
        relative = ray_frame(pose - root[:, None], root[:, :2] / root[:, 2:3])
        if self.model.memory_in_basis:
            relative = self.in_basis(relative)
        return relative / MM_PER_M

    def in_basis(self, pose: torch.Tensor) -> torch.Tensor:
        """Root-relative poses (B, J, 3) -> their projection onto the shape basis, in the same frame."""
        mean, components = self.basis.mean, self.basis.components
        turn = canonical_rotation(pose)  # canonical = pose R^T
        canonical = pose @ turn.transpose(1, 2)
        coefficients = torch.einsum("bjc,kjc->bk", canonical - mean, components) / components.square().sum((1, 2))
        return (mean + torch.einsum("bk,kjc->bjc", coefficients, components)) @ turn


class PosePlugin(TaskPlugin):
    """3D human pose from Human3.6M heatmaps; the shape basis (stage pose_basis) is part of the task."""

    name, dataset = "pose", "h36m"
    data = ("shards", "basis")
    supervision = ("pose3d",)
    collate_inputs = staticmethod(collate_inputs)
    collate_memory = staticmethod(collate_memory)

    def settings(self, load: LoadParams, item: str):
        return load("pose.model", PoseModel), load("pose.train", TrainConfig)

    def build(self, model: PoseModel, data: dict[str, Path]) -> PoseTask:
        manifest = read_manifest(data["shards"])
        return PoseTask(ShapeBasis.load(data["basis"]), model, manifest["heatmap_size"], manifest["heatmap_sigma"])

    def describe(self, model: PoseModel, item: str, data: dict[str, Path]) -> dict:
        manifest = read_manifest(data["shards"])
        return {"task": self.name, "model": asdict(model), "heatmap_size": manifest["heatmap_size"],
                "heatmap_sigma": manifest["heatmap_sigma"], "basis_sha256": sha256_file(data["basis"])}

    def rebuild(self, info: dict, where: str, data: dict[str, Path]) -> PoseTask:
        return PoseTask(ShapeBasis.load(data["basis"]), parse(PoseModel, info["model"], f"{where}: model"),
                        info["heatmap_size"], info["heatmap_sigma"])


PLUGIN = PosePlugin()
