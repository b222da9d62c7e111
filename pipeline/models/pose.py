"""Pose generator (heatmaps -> rotation + shape-basis coefficients) and pose discriminator (3D pose -> logit)."""

import torch
from torch import nn

from pipeline.datasets.h36m import PARENTS_17
from pipeline.pose_basis import to_canonical


def rotation_from_6d(x: torch.Tensor) -> torch.Tensor:
    """(B, 6) -> rotation matrices (B, 3, 3): Gram-Schmidt on two predicted columns (Zhou et al. 2019)."""
    a, b = x[:, :3], x[:, 3:]
    c1 = nn.functional.normalize(a, dim=-1)
    c2 = nn.functional.normalize(b - (c1 * b).sum(-1, keepdim=True) * c1, dim=-1)
    c3 = torch.cross(c1, c2, dim=-1)
    return torch.stack([c1, c2, c3], dim=-1)  # columns


def _conv(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), nn.GroupNorm(8, cout), nn.ReLU(inplace=True))


class PoseGenerator(nn.Module):
    """A small CNN on the (pooled) heatmaps with coordinate channels; outputs a 6D rotation and K coefficients."""

    def __init__(self, joints: int, basis_size: int, width: int = 32, heatmap_size: int = 64, input_size: int = 32):
        super().__init__()
        self.pool = nn.AvgPool2d(heatmap_size // input_size) if input_size < heatmap_size else nn.Identity()
        ramp = torch.linspace(-1, 1, input_size)
        self.register_buffer("coords", torch.stack(torch.meshgrid(ramp, ramp, indexing="ij"))[None], persistent=False)
        self.encoder = nn.Sequential(
            _conv(joints + 2, width, 1), _conv(width, 2 * width, 2), _conv(2 * width, 4 * width, 2),
            _conv(4 * width, 4 * width, 2), nn.Flatten(),
            nn.Linear(4 * width * (input_size // 8) ** 2, 256), nn.ReLU(inplace=True),
        )
        self.rotation = nn.Linear(256, 6)
        self.coefficients = nn.Linear(256, basis_size)
        # Start at the identity rotation (an upright person facing the camera) and the mean shape.
        nn.init.zeros_(self.rotation.weight)
        with torch.no_grad():
            self.rotation.bias.copy_(torch.tensor([1.0, 0, 0, 0, 1, 0]))
        nn.init.normal_(self.coefficients.weight, std=1e-3)
        nn.init.zeros_(self.coefficients.bias)

    def forward(self, heatmaps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """heatmaps (B, J, S, S) -> rotation (B, 3, 3), coefficients (B, K)."""
        x = self.pool(heatmaps)
        x = torch.cat([x, self.coords.expand(x.shape[0], -1, -1, -1)], dim=1)
        features = self.encoder(x)
        return rotation_from_6d(self.rotation(features)), self.coefficients(features)


def bone_vectors(pose: torch.Tensor) -> torch.Tensor:
    """(B, J, 3) -> (B, J-1, 3): child minus parent for every non-root joint."""
    children = [j for j, parent in enumerate(PARENTS_17) if parent >= 0]
    parents = [PARENTS_17[j] for j in children]
    return pose[:, children] - pose[:, parents]


class PoseDiscriminator(nn.Module):
    """Judges root-relative camera-frame poses (metres) from three views of them:

    - the kinematic chain space (KCS, Wandt and Rosenhahn, RepNet 2019): the Gram matrix of bone vectors, bone
      lengths on its diagonal and angles between bones elsewhere; blind to rotations and to reflections;
    - the pose in its canonical body frame: a depth-reflected pose (the ambiguity a single view leaves) has knees
      and elbows bent the wrong way there;
    - the camera-frame coordinates: how people stand relative to the camera.
    """

    def __init__(self, joints: int = 17, hidden: int = 256):
        super().__init__()
        bones = joints - 1
        self.net = nn.Sequential(
            nn.Linear(2 * joints * 3 + bones * bones, hidden), nn.LeakyReLU(0.2),
            nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
            nn.Linear(hidden, 1),
        )

    def forward(self, pose: torch.Tensor) -> torch.Tensor:
        """pose (B, J, 3) metres -> logits (B,)."""
        bones = bone_vectors(pose)
        kcs = bones @ bones.transpose(1, 2)  # (B, J-1, J-1)
        canonical = to_canonical(pose)
        return self.net(torch.cat([pose.flatten(1), canonical.flatten(1), kcs.flatten(1)], dim=1))[:, 0]
