"""Face networks: a super-resolution generator, an inpainting generator, a face discriminator and the attribute
classifier the evaluation uses. Images are (B, 3, H, W) in [0, 1]."""

import math

import torch
from torch import nn
from torch.nn import functional as F


class ResidualBlock(nn.Module):
    def __init__(self, width: int, dilation: int = 1):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(width, width, 3, 1, dilation, dilation), nn.ReLU(inplace=True),
                                  nn.Conv2d(width, width, 3, 1, dilation, dilation))

    def forward(self, x):
        return x + self.body(x)


def _subpixel_conv(cin: int, cout: int) -> nn.Sequential:
    """x2 upsampling by a sub-pixel convolution (Shi et al. 2016): each of the four output pixels of an input pixel
    gets its own filter, so the network can draw detail finer than its input (texture, thin lines), which bilinear
    upsampling followed by a convolution cannot. The four filters start equal (nearest-neighbour upsampling of one
    convolution: no checkerboard at initialisation)."""
    conv = nn.Conv2d(cin, 4 * cout, 3, 1, 1)
    with torch.no_grad():
        base = conv.weight[:cout].clone()
        conv.weight.copy_(base.repeat_interleave(4, dim=0))
        conv.bias.copy_(conv.bias[:cout].clone().repeat_interleave(4))
    return nn.Sequential(conv, nn.PixelShuffle(2))


class SuperResolutionGenerator(nn.Module):
    """Residual CNN at the low resolution, then x2 sub-pixel upsampling steps, each halving the channels; it predicts
    the residual over a bicubic upsampling of the input and starts at zero, i.e. at the bicubic answer (the authors:
    15 residual blocks, 32x32 -> 128x128)."""

    def __init__(self, factor: int = 4, width: int = 64, blocks: int = 4):
        super().__init__()
        steps = int(math.log2(factor))
        if 2**steps != factor:
            raise ValueError(f"factor must be a power of two, found {factor}")
        self.factor = factor
        self.head = nn.Conv2d(3, width, 3, 1, 1)
        self.blocks = nn.Sequential(*(ResidualBlock(width) for _ in range(blocks)))
        up, channels = [], width
        for _ in range(steps):  # each x2 step halves the channels: high resolutions stay cheap
            # leaky: behind a ReLU half to four fifths of the upsampled features start dead, and with the most
            # dead the generator never leaves the bicubic answer
            up += [_subpixel_conv(channels, channels // 2), nn.LeakyReLU(0.2, inplace=True)]
            channels //= 2
        self.up = nn.Sequential(*up)
        self.tail = nn.Conv2d(channels, 3, 3, 1, 1)
        nn.init.zeros_(self.tail.weight)  # training starts from the bicubic answer
        nn.init.zeros_(self.tail.bias)

    def forward(self, low: torch.Tensor) -> torch.Tensor:
        x = self.head(low)
        x = self.up(x + self.blocks(x))
        base = F.interpolate(low, scale_factor=self.factor, mode="bicubic", align_corners=False)
        return base + self.tail(x)


class InpaintingGenerator(nn.Module):
    """Encoder-decoder on the masked face and the mask (4 channels): dilated residual blocks at 1/4 resolution see
    across the hole; bilinear upsampling and convolutions bring it back. Returns a full face; the caller pastes its
    hole into the known pixels."""

    def __init__(self, width: int = 32, blocks: int = 4):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(4, width, 4, 2, 1), nn.ReLU(inplace=True),
            nn.Conv2d(width, 2 * width, 4, 2, 1), nn.ReLU(inplace=True))
        self.blocks = nn.Sequential(*(ResidualBlock(2 * width, dilation=2 ** (i % 3)) for i in range(blocks)))
        self.decoder = nn.Sequential(
            nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
            nn.Conv2d(2 * width, width, 3, 1, 1), nn.ReLU(inplace=True),
            nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
            nn.Conv2d(width, 3, 3, 1, 1))

    def forward(self, masked: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decoder(self.blocks(self.encoder(torch.cat([masked, mask], dim=1)))))


class FaceDiscriminator(nn.Module):
    """Judges a face through a full-resolution convolution and three strided ones (spectral normalisation).

    `size` None: judges overlapping patches of about 40x40 pixels and averages the logits (big enough to see a nose or
    a mouth with its surroundings, many judgements per face). `size` given (the input's side, or its height and
    width): one judgement of the whole input by a linear layer over the feature map, which knows where each feature
    lies (skin folds belong on the forehead and around the eyes, not on the background)."""

    def __init__(self, width: int = 32, channels: int = 3, size: int | tuple[int, int] | None = None):
        super().__init__()
        sn = nn.utils.parametrizations.spectral_norm
        body = [  # built before the head: the layers draw their initial weights in this order
            sn(nn.Conv2d(channels, width, 3, 1, 1)), nn.LeakyReLU(0.2, inplace=True),  # full resolution: no aliasing
            sn(nn.Conv2d(width, width, 4, 2, 1)), nn.LeakyReLU(0.2, inplace=True),
            sn(nn.Conv2d(width, 2 * width, 4, 2, 1)), nn.LeakyReLU(0.2, inplace=True),
            sn(nn.Conv2d(2 * width, 4 * width, 4, 2, 1)), nn.LeakyReLU(0.2, inplace=True)]
        if size is None:
            head = [sn(nn.Conv2d(4 * width, 1, 3, 1, 1))]
        else:
            rows, cols = (size, size) if isinstance(size, int) else size
            cells = (rows // 8) * (cols // 8)  # the body's three stride-2 layers
            head = [nn.Flatten(), sn(nn.Linear(4 * width * cells, 1))]
        self.net = nn.Sequential(*body, *head)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        logits = self.net(image * 2 - 1)
        return logits.mean(dim=(1, 2, 3)) if logits.dim() == 4 else logits[:, 0]


class AttributeClassifier(nn.Module):
    """Multi-label logits, one per attribute, from a face."""

    def __init__(self, size: int, attributes: int, width: int = 16):
        super().__init__()
        layers, cin, channels = [], 3, width
        while size > 4:  # strided convolutions down to 4x4, channels doubling up to 8 * width
            layers += [nn.Conv2d(cin, channels, 4, 2, 1), nn.BatchNorm2d(channels), nn.LeakyReLU(0.2, inplace=True)]
            cin, channels, size = channels, min(2 * channels, 8 * width), size // 2
        self.net = nn.Sequential(*layers, nn.Flatten(), nn.Linear(cin * size * size, attributes))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.net(image * 2 - 1)
