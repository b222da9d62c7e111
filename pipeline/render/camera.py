"""The Human3.6M camera model, differentiable and finite for every finite point: the one implementation, used by the
renderer, by data preparation and by the dataset readers (through `pipeline.geometry`).

Camera intrinsics travel as (..., 9) = fx, fy, cx, cy, k1, k2, k3, p1, p2. Points are in the camera frame, millimetres
(x right, y down, z forward).

Two places where the textbook model breaks are handled deliberately:

- **Depth.** Points at or behind the camera plane have no image. Depth is floored smoothly at `NEAR_MM`
  (softplus), so such points land far outside the image, finitely, and still feel a gradient pushing them forwards.
- **Lens distortion** is a polynomial in r^2 (up to r^6), calibrated only inside the image: the corners of every
  Human3.6M image lie at r^2 <= 0.41 in normalised coordinates. Beyond `CALIBRATED_R2` a point is distorted like its
  radial projection onto that circle, then scaled back out radially: continuous, monotonic, linear in r.
"""

import torch

NEAR_MM = 100.0  # depth floor
NEAR_SOFTNESS_MM = 50.0  # width of the smooth transition above the floor
CALIBRATED_R2 = 0.42  # squared normalised radius of the calibrated field of view


def _split(camera: torch.Tensor):
    """(..., 9) -> f (..., 1, 2), c (..., 1, 2), k (..., 1, 3), p (..., 1, 2), broadcasting over joints."""
    camera = camera[..., None, :]
    return camera[..., 0:2], camera[..., 2:4], camera[..., 4:7], camera[..., 7:9]


def safe_depth(z: torch.Tensor) -> torch.Tensor:
    """Depth floored smoothly at NEAR_MM: equal to z (to float precision) from NEAR_MM + 1 m on."""
    return NEAR_MM + torch.nn.functional.softplus(z - NEAR_MM, beta=1 / NEAR_SOFTNESS_MM)


def distort(xy: torch.Tensor, k: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """Normalised image coordinates (..., 2) -> distorted ones, radial k1..k3 and tangential p1, p2 (3d-pose-baseline
    `project_point_radial`: x' = x (1 + k1 r2 + k2 r4 + k3 r6 + p1 y + p2 x) + [p2, p1] r2), held outside the
    calibrated circle as described in the module docstring."""
    r2 = (xy**2).sum(-1, keepdim=True)
    stretch = torch.sqrt(r2.clamp(min=CALIBRATED_R2) / CALIBRATED_R2)  # 1 inside the circle
    inner = xy / stretch
    r2 = r2 / stretch**2
    radial = 1 + k[..., 0:1] * r2 + k[..., 1:2] * r2**2 + k[..., 2:3] * r2**3
    tangential = p[..., 0:1] * inner[..., 1:2] + p[..., 1:2] * inner[..., 0:1]
    distorted = inner * (radial + tangential) + torch.cat([p[..., 1:2], p[..., 0:1]], -1) * r2
    return distorted * stretch


def project(points: torch.Tensor, camera: torch.Tensor) -> torch.Tensor:
    """Camera-frame points (..., J, 3) mm -> distorted pixels (..., J, 2); camera (..., 9)."""
    f, c, k, p = _split(camera)
    xy = points[..., :2] / safe_depth(points[..., 2:3])
    return f * distort(xy, k, p) + c


def undistort(pixels: torch.Tensor, camera: torch.Tensor, iterations: int = 8) -> torch.Tensor:
    """Distorted pixels (..., J, 2) -> normalised image coordinates (..., J, 2), i.e. the rays x/z, y/z.

    Fixed-point iteration of the distortion (it converges in a few steps inside the image, where the distortion is a
    small correction); used to find the ray through a crop's centre.
    """
    f, c, k, p = _split(camera)
    target = (pixels - c) / f
    xy = target
    for _ in range(iterations):
        xy = xy - (distort(xy, k, p) - target)
    return xy


def ray_rotation(rays: torch.Tensor) -> torch.Tensor:
    """Normalised image coordinates (B, 2) -> rotations (B, 3, 3) taking the optical axis onto each viewing ray: the
    smallest such rotation, about the axis z x ray (Rodrigues with v = z x d: R = I + [v] + [v]^2 / (1 + d_z))."""
    d = torch.nn.functional.normalize(torch.cat([rays, torch.ones_like(rays[:, :1])], 1), dim=1)  # (B, 3)
    zero = torch.zeros_like(d[:, 0])
    v = torch.stack([-d[:, 1], d[:, 0], zero], 1)  # z x d
    vx = torch.stack([torch.stack([zero, -v[:, 2], v[:, 1]], 1),
                      torch.stack([v[:, 2], zero, -v[:, 0]], 1),
                      torch.stack([-v[:, 1], v[:, 0], zero], 1)], 1)  # (B, 3, 3) cross-product matrices
    eye = torch.eye(3, dtype=rays.dtype, device=rays.device)
    return eye + vx + vx @ vx / (1 + d[:, 2])[:, None, None]
