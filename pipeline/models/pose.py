"""Pose generator (heatmaps + where the person is in the image -> rotation + shape-basis coefficients) and pose
discriminator (3D pose -> logit)."""

import torch
from torch import nn

from pipeline.pose_basis import to_canonical
from pipeline.render.heatmaps import heatmap_centroids
from pipeline.skeleton import PARENTS_17


def rotation_from_6d(x: torch.Tensor) -> torch.Tensor:
    """(B, 6) -> rotation matrices (B, 3, 3): Gram-Schmidt on two predicted columns (Zhou et al. 2019)."""
    a, b = x[:, :3], x[:, 3:]
    c1 = nn.functional.normalize(a, dim=-1)
    c2 = nn.functional.normalize(b - (c1 * b).sum(-1, keepdim=True) * c1, dim=-1)
    c3 = torch.cross(c1, c2, dim=-1)
    return torch.stack([c1, c2, c3], dim=-1)  # columns


class ResidualBlock(nn.Module):
    """Two linear layers with layer norm and ReLU around a skip connection (Martinez et al. 2017, without dropout)."""

    def __init__(self, width: int):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(width, width), nn.LayerNorm(width), nn.ReLU(),
                                    nn.Linear(width, width), nn.LayerNorm(width), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.layers(x)


class PoseGenerator(nn.Module):
    """Heatmaps and the crop's place in the image -> a rotation relative to the viewing ray and K coefficients.

    The joints are read off the heatmaps as their centres of mass (a parameter-free soft-argmax), in crop
    coordinates scaled to [-1, 1], and lifted by a residual MLP. The crop alone cannot tell where in the image the
    person stands, which turns the camera-frame rotation by the angle of the viewing ray (10-15 degrees on
    Human3.6M): `geometry` (B, 3) supplies that ray and the crop's size, in normalised camera coordinates.
    """

    GEOMETRY = 3

    def __init__(self, joints: int, basis_size: int, hidden: int = 1024, blocks: int = 2):
        super().__init__()
        self.stem = nn.Sequential(nn.Linear(2 * joints + self.GEOMETRY, hidden), nn.LayerNorm(hidden), nn.ReLU())
        self.blocks = nn.Sequential(*(ResidualBlock(hidden) for _ in range(blocks)))
        self.rotation = nn.Linear(hidden, 6)
        self.coefficients = nn.Linear(hidden, basis_size)
        # Start at the identity rotation (an upright person facing along the ray) and the mean shape.
        nn.init.zeros_(self.rotation.weight)
        with torch.no_grad():
            self.rotation.bias.copy_(torch.tensor([1.0, 0, 0, 0, 1, 0]))
        nn.init.normal_(self.coefficients.weight, std=1e-3)
        nn.init.zeros_(self.coefficients.bias)

    def forward(self, heatmaps: torch.Tensor, geometry: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """heatmaps (B, J, S, S), geometry (B, 3) -> rotation (B, 3, 3), coefficients (B, K)."""
        joints = heatmap_centroids(heatmaps.float()) * (2 / heatmaps.shape[-1]) - 1  # (B, J, 2) in [-1, 1]
        features = self.blocks(self.stem(torch.cat([joints.flatten(1), geometry], 1)))
        return rotation_from_6d(self.rotation(features)), self.coefficients(features)


def bone_vectors(pose: torch.Tensor) -> torch.Tensor:
    """(B, J, 3) -> (B, J-1, 3): child minus parent for every non-root joint."""
    children = [j for j, parent in enumerate(PARENTS_17) if parent >= 0]
    parents = [PARENTS_17[j] for j in children]
    return pose[:, children] - pose[:, parents]


class PoseDiscriminator(nn.Module):
    """Judges root-relative poses (metres) in their viewing-ray frame from three views of them:

    - the kinematic chain space (KCS, Wandt and Rosenhahn, RepNet 2019): the Gram matrix of bone vectors, bone
      lengths on its diagonal and angles between bones elsewhere; blind to rotations and to reflections;
    - the pose in its canonical body frame: a depth-reflected pose (the ambiguity a single view leaves) has knees
      and elbows bent the wrong way there;
    - the coordinates in the viewing-ray frame: how people stand relative to the camera looking at them.
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
