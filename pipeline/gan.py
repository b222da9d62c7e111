"""GAN losses: non-saturating, least squares and WGAN-GP, for the discriminator and the generator."""

from typing import Literal

import torch
import torch.nn.functional as F

GanLoss = Literal["nonsaturating", "lsgan", "wgan-gp"]


def discriminator_loss(kind: GanLoss, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Loss of D given its outputs on memory samples (`real`) and on detached predictions (`fake`)."""
    if kind == "nonsaturating":
        return F.softplus(-real).mean() + F.softplus(fake).mean()
    if kind == "lsgan":
        return ((real - 1) ** 2).mean() + (fake**2).mean()
    if kind == "wgan-gp":
        return fake.mean() - real.mean()
    raise ValueError(f"unknown GAN loss {kind!r}")


def generator_loss(kind: GanLoss, fake: torch.Tensor) -> torch.Tensor:
    """Adversarial loss of G given D's outputs on its predictions."""
    if kind == "nonsaturating":
        return F.softplus(-fake).mean()
    if kind == "lsgan":
        return ((fake - 1) ** 2).mean()
    if kind == "wgan-gp":
        return -fake.mean()
    raise ValueError(f"unknown GAN loss {kind!r}")


def gradient_penalty(discriminator, real: torch.Tensor, fake: torch.Tensor, generator: torch.Generator | None = None):
    """WGAN-GP: (|grad D(x)| - 1)^2 at random interpolates of real and fake samples."""
    alpha = torch.rand((real.shape[0],) + (1,) * (real.dim() - 1), generator=generator, device=real.device)
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(discriminator(mixed).sum(), mixed, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
