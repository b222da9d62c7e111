"""Structure-from-motion AIGN on frame pairs: depth of frame 1 and camera motion, explained by warping frame 2.

Renderer (pipeline.render.warp): back-project frame 1 with its predicted depth, move it by the predicted motion,
project into frame 2, sample frame 2 there, compare with frame 1 (L1 over pixels that stay in the image, optionally
mixed with an SSIM distance, `sfm.model.ssim`), plus an optional edge-aware smoothness term on the mean-normalised
disparity (`sfm.model.smoothness`).

The discriminator sees depth without its scale (monocular depth has none), in a representation chosen by
`sfm.model.disc_input`: `log_depth` (the default) is log depth minus its image mean, where a 25% error moves a pixel
by the same 0.22 at 5 m and at 60 m; `log_depth_gradient` is the differences of log depth between neighbouring
pixels, right and down: the local shape of the surfaces (a tilted road, an upright facade, an occluding edge)
without the scene's layout, which leaves the facades to the photometric loss but lets the far end of a street
drift towards the camera (docs/experiments.md); `disparity` is disparity over its image mean, where far pixels all
sit near 0 and the prior cannot see their errors, exactly where the photometric loss is blind too.
"""

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F

from pipeline.aign import TrainConfig
from pipeline.config import parse
from pipeline.datasets.vkitti import DEPTH_INVALID
from pipeline.models.sfm import DepthDiscriminator, SfmGenerator
from pipeline.render.warp import inverse_warp, photometric_loss
from pipeline.shards import read_manifest
from pipeline.tasks.plugin import LoadParams, Task, TaskPlugin


@dataclass
class SfmModel:
    """params.yaml sfm.model."""

    width: int = 16
    min_depth: float = 0.5
    max_depth: float = 200.0
    smoothness: float = 0.05  # weight of the edge-aware disparity smoothness inside the reconstruction loss
    ssim: float = 0.0  # share of the SSIM distance in the photometric loss (0: plain L1 as in the paper)
    disc_width: int = 16
    disc_input: Literal["log_depth", "log_depth_gradient", "disparity"] = "log_depth"  # module docstring
    disc_spectral_norm: bool = True  # spectral normalisation of the discriminator's layers


WARMUP = "warmup"  # the experiment name of the photometric warm-up run


@dataclass
class SfmWarmUp:
    """params.yaml sfm.warmup: the photometric warm-up (experiment `warmup`, a recon_only run) that the variants'
    train stages continue (`--init`), trained with `train`'s settings over sfm.train."""

    train: dict[str, Any] = field(default_factory=dict)


def _images(samples: list[dict], field: str) -> torch.Tensor:
    return torch.from_numpy(np.stack([s[field] for s in samples])).permute(0, 3, 1, 2).float().div_(255.0)


def _depth_metres(samples: list[dict]) -> torch.Tensor:
    """uint16 cm (65535 invalid) -> (B, 1, H, W) metres, 0 where invalid."""
    cm = np.stack([s["depth.png"] for s in samples]).astype(np.float32)
    return torch.from_numpy(np.where(cm == DEPTH_INVALID, 0.0, cm / 100.0))[:, None]


def collate_pairs(samples: list[dict]) -> dict:
    """image1, image2 (B, 3, H, W) in [0, 1]; depth (B, 1, H, W) m; intrinsics (B, 4); motion (B, 4, 4);
    extrinsics (B, 2, 4, 4); meta."""
    return {
        "image1": _images(samples, "image1.png"),
        "image2": _images(samples, "image2.png"),
        "depth": _depth_metres(samples),
        "intrinsics": torch.from_numpy(np.stack([s["intrinsics.npy"] for s in samples])),
        "motion": torch.from_numpy(np.stack([s["motion.npy"] for s in samples])).float(),
        "extrinsics": torch.from_numpy(np.stack([s["extrinsics.npy"] for s in samples])),
        "meta": [s["meta.json"] for s in samples],
        "keys": [s["__key__"] for s in samples],
    }


def collate_depths(samples: list[dict]) -> dict:
    return {"depth": _depth_metres(samples)}


def normalised_disparity(disparity: torch.Tensor) -> torch.Tensor:
    return disparity / disparity.mean(dim=(1, 2, 3), keepdim=True).clamp(min=1e-6)


def normalised_log_depth(depth: torch.Tensor) -> torch.Tensor:
    """log depth minus its mean over each image: (B, 1, H, W), free of the depth's scale."""
    log = depth.log()
    return log - log.mean(dim=(1, 2, 3), keepdim=True)


LOG_DEPTH_GRADIENT_GAIN = 6.0  # the differences' spread on the memory worlds (0.13) brought near that of
# normalised log depth (0.84): the spectrally normalised discriminator cannot amplify a faint input


def log_depth_gradients(depth: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W) depth -> (B, 2, H, W): the differences of log depth to the right and downwards neighbours (0
    past the last column and row), times LOG_DEPTH_GRADIENT_GAIN; free of the depth's scale."""
    log = depth.log()
    dx = F.pad(log[..., :, 1:] - log[..., :, :-1], (0, 1, 0, 0))
    dy = F.pad(log[..., 1:, :] - log[..., :-1, :], (0, 0, 0, 1))
    return torch.cat([dx, dy], dim=1) * LOG_DEPTH_GRADIENT_GAIN


class SfmTask(Task):
    def __init__(self, model: SfmModel):
        self.model = model

    def build(self) -> tuple[SfmGenerator, DepthDiscriminator]:
        m = self.model
        channels = 2 if m.disc_input == "log_depth_gradient" else 1
        return (SfmGenerator(m.width, m.min_depth, m.max_depth),
                DepthDiscriminator(m.disc_width, m.disc_spectral_norm, channels))

    def predict(self, generator: SfmGenerator, batch: dict) -> dict:
        disparity, rotation, translation = generator(batch["image1"], batch["image2"])
        return {"disparity": disparity, "depth": 1.0 / disparity, "rotation": rotation, "translation": translation}

    def reconstruction_loss(self, pred: dict, batch: dict) -> torch.Tensor:
        warped, valid = inverse_warp(batch["image2"], pred["depth"], pred["rotation"], pred["translation"],
                                     batch["intrinsics"])
        loss = photometric_loss(batch["image1"], warped, valid, self.model.ssim)
        if self.model.smoothness > 0:
            loss = loss + self.model.smoothness * edge_aware_smoothness(normalised_disparity(pred["disparity"]),
                                                                        batch["image1"])
        return loss

    def supervised_loss(self, pred: dict, batch: dict) -> torch.Tensor:
        """Log-depth L1 on valid ground truth, plus rotation and translation errors of the motion."""
        valid = batch["depth"] > 0
        depth = (pred["depth"][valid].log() - batch["depth"][valid].log()).abs().mean()
        rotation = (pred["rotation"] - batch["motion"][:, :3, :3]).abs().mean()
        translation = (pred["translation"] - batch["motion"][:, :3, 3]).abs().mean()
        return depth + rotation + translation

    def fake(self, pred: dict, batch: dict) -> torch.Tensor:
        return self._scale_free(pred["depth"], pred["disparity"])

    def real(self, memory: dict) -> torch.Tensor:
        """Memory depth maps in the discriminator's representation; pixels without depth (the sky) are as far as the
        generator can put anything (max_depth)."""
        depth = memory["depth"]
        depth = torch.where(depth > 0, depth, self.model.max_depth).clamp(self.model.min_depth, self.model.max_depth)
        return self._scale_free(depth, 1.0 / depth)

    def _scale_free(self, depth: torch.Tensor, disparity: torch.Tensor) -> torch.Tensor:
        if self.model.disc_input == "log_depth_gradient":
            return log_depth_gradients(depth)
        if self.model.disc_input == "log_depth":
            return normalised_log_depth(depth)
        return normalised_disparity(disparity)


def edge_aware_smoothness(disparity: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
    """Mean disparity gradient, down-weighted where the image has edges (exp(-|image gradient|))."""
    dx = (disparity[..., :, 1:] - disparity[..., :, :-1]).abs()
    dy = (disparity[..., 1:, :] - disparity[..., :-1, :]).abs()
    ix = (image[..., :, 1:] - image[..., :, :-1]).abs().mean(1, keepdim=True)
    iy = (image[..., 1:, :] - image[..., :-1, :]).abs().mean(1, keepdim=True)
    return (dx * torch.exp(-ix)).mean() + (dy * torch.exp(-iy)).mean()


class SfmPlugin(TaskPlugin):
    """Depth and camera motion from Virtual KITTI frame pairs; the memory is depth maps of other worlds."""

    name, dataset = "sfm", "vkitti"
    supervision = ("depth", "motion", "extrinsics")
    collate_inputs = staticmethod(collate_pairs)
    collate_memory = staticmethod(collate_depths)

    def variant(self, item: str) -> str:
        return "recon_only" if item == WARMUP else item

    def settings(self, load: LoadParams, item: str):
        model, train = load("sfm.model", SfmModel), load("sfm.train", TrainConfig)
        if item == WARMUP:
            train = parse(TrainConfig, {**asdict(train), **load("sfm.warmup", SfmWarmUp).train}, "sfm.warmup.train")
        return model, train

    def build(self, model: SfmModel, data: dict[str, Path]) -> SfmTask:
        return SfmTask(model)

    def describe(self, model: SfmModel, item: str, data: dict[str, Path]) -> dict:
        return {"task": self.name, "model": asdict(model), "input_size": read_manifest(data["shards"])["size"]}

    def rebuild(self, info: dict, where: str, data: dict[str, Path]) -> SfmTask:
        return SfmTask(parse(SfmModel, info["model"], f"{where}: model"))


PLUGIN = SfmPlugin()
