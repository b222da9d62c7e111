"""Structure-from-motion networks: depth from one frame, camera motion from a pair, a discriminator on depth maps."""

import torch
from torch import nn
from torch.nn import functional as F


def _block(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), nn.GroupNorm(min(8, cout), cout), nn.ELU(inplace=True))


def rotation_from_axis_angle(v: torch.Tensor) -> torch.Tensor:
    """(B, 3) axis-angle -> (B, 3, 3) by Rodrigues' formula (smooth at zero)."""
    angle = v.norm(dim=-1, keepdim=True).clamp(min=1e-8)
    k = v / angle
    K = torch.zeros(v.shape[0], 3, 3, dtype=v.dtype, device=v.device)
    K[:, 0, 1], K[:, 0, 2], K[:, 1, 2] = -k[:, 2], k[:, 1], -k[:, 0]
    K = K - K.transpose(1, 2)
    s, c = torch.sin(angle)[..., None], torch.cos(angle)[..., None]
    return torch.eye(3, dtype=v.dtype, device=v.device) + s * K + (1 - c) * (K @ K)


class DepthNet(nn.Module):
    """Encoder-decoder with skips: image (B, 3, H, W) in [0, 1] -> disparity (B, 1, H, W) in [min, max] (1/m).

    Depth = 1 / disparity is positive and bounded by construction (H and W divisible by 16).
    """

    def __init__(self, width: int = 16, min_depth: float = 0.5, max_depth: float = 200.0):
        super().__init__()
        w = [width, 2 * width, 4 * width, 8 * width]
        self.down = nn.ModuleList([_block(3, w[0], 2), _block(w[0], w[1], 2), _block(w[1], w[2], 2),
                                   _block(w[2], w[3], 2)])
        self.up = nn.ModuleList([_block(w[3] + w[2], w[2], 1), _block(w[2] + w[1], w[1], 1),
                                 _block(w[1] + w[0], w[0], 1), _block(w[0] + 3, w[0], 1)])
        self.head = nn.Conv2d(w[0], 1, 3, 1, 1)
        self.min_disp, self.max_disp = 1 / max_depth, 1 / min_depth

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        skips, x = [image], image
        for layer in self.down:
            x = layer(x)
            skips.append(x)
        skips.pop()  # the bottleneck itself
        for layer in self.up:
            skip = skips.pop()
            x = layer(torch.cat([F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False), skip],
                                dim=1))
        return self.min_disp + (self.max_disp - self.min_disp) * torch.sigmoid(self.head(x))


class MotionNet(nn.Module):
    """Both frames (B, 6, H, W) -> rotation (B, 3, 3) and translation (B, 3) taking frame-1 points into frame 2."""

    def __init__(self, width: int = 16):
        super().__init__()
        w = [width, 2 * width, 4 * width, 8 * width, 8 * width]
        layers, cin = [], 6
        for cout in w:
            layers.append(_block(cin, cout, 2))
            cin = cout
        self.encoder = nn.Sequential(*layers)
        self.head = nn.Conv2d(cin, 6, 1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, image1: torch.Tensor, image2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.head(self.encoder(torch.cat([image1, image2], dim=1))).mean(dim=(2, 3)) * 0.01  # small at start
        return rotation_from_axis_angle(out[:, :3]), out[:, 3:] * 100  # translation in metres per frame


class SfmGenerator(nn.Module):
    def __init__(self, width: int = 16, min_depth: float = 0.5, max_depth: float = 200.0):
        super().__init__()
        self.depth = DepthNet(width, min_depth, max_depth)
        self.motion = MotionNet(width)

    def forward(self, image1, image2):
        return self.depth(image1), *self.motion(image1, image2)


class DepthDiscriminator(nn.Module):
    """Judges scale-free depth maps (B, channels, H, W) patch by patch (a PatchGAN, averaged), spectrally normalised
    so that its judgement changes smoothly with its input (Miyato et al. 2018) when `spectral_norm`."""

    def __init__(self, width: int = 16, spectral_norm: bool = True, channels: int = 1):
        super().__init__()
        wrap = nn.utils.parametrizations.spectral_norm if spectral_norm else (lambda layer: layer)
        self.net = nn.Sequential(
            wrap(nn.Conv2d(channels, width, 4, 2, 1)), nn.LeakyReLU(0.2),
            wrap(nn.Conv2d(width, 2 * width, 4, 2, 1)), nn.LeakyReLU(0.2),
            wrap(nn.Conv2d(2 * width, 4 * width, 4, 2, 1)), nn.LeakyReLU(0.2),
            wrap(nn.Conv2d(4 * width, 1, 3, 1, 1)),
        )

    def forward(self, depth_map: torch.Tensor) -> torch.Tensor:
        return self.net(depth_map).mean(dim=(1, 2, 3))
