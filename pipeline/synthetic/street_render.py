"""Ray casting and lighting of the stand-in street worlds: every pixel is cast exactly, so depth, camera path and
images agree as a photometric loss requires; variations re-light the scene (morning, sunset, overcast, fog, rain)
or turn the camera (15/30-deg-left/right), as in Virtual KITTI."""

import numpy as np

from pipeline.datasets.vkitti import DEPTH_INVALID, VKITTI1_INTRINSICS, VKITTI1_SIZE
from pipeline.synthetic.street_world import Box, World, camera_pose

MAX_RANGE = 200.0  # metres cast into the scene; beyond is sky (invalid depth)
TEXELS_PER_METRE = 24

# Light per variation: colour tint (B, G, R), sun direction (world, pointing to the sun), ambient, fog distance (m).
_LIGHT = {
    "clone": ((1.0, 1.0, 1.0), (0.4, -0.8, 0.3), 0.45, None),
    "morning": ((0.85, 0.95, 1.1), (-0.8, -0.35, 0.4), 0.4, None),
    "sunset": ((0.6, 0.75, 1.15), (0.7, -0.15, -0.6), 0.35, None),
    "overcast": ((1.0, 0.98, 0.95), (0.0, -1.0, 0.0), 0.75, None),
    "fog": ((1.0, 1.0, 1.0), (0.4, -0.8, 0.3), 0.55, 35.0),
    "rain": ((1.05, 0.95, 0.9), (0.0, -1.0, 0.2), 0.5, 80.0),
}
_YAW = {"15-deg-left": -15.0, "15-deg-right": 15.0, "30-deg-left": -30.0, "30-deg-right": 30.0}
VARIATIONS = tuple(_LIGHT) + tuple(_YAW)


def _intersect_box(box: Box, origin: np.ndarray, dirs: np.ndarray):
    """Slab test of rays (P, 3) against an oriented box: hit distance (P,) (inf on a miss) and face axis (P,)."""
    R = box.rotation()
    o = (origin - box.centre) @ R  # box frame
    d = dirs @ R
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = 1.0 / d
        t1 = (-box.half - o) * inv
        t2 = (box.half - o) * inv
    near = np.minimum(t1, t2)
    far = np.maximum(t1, t2).min(axis=1)
    axis = near.argmax(axis=1)
    near = near.max(axis=1)
    hit = (near <= far) & (near > 0.05)
    return np.where(hit, near, np.inf), axis


def _project_box(box: Box, w2c: np.ndarray, K: np.ndarray, size: tuple[int, int]):
    """Pixel rectangle (u0, v0, u1, v1) covering the box, None when it is behind the camera or off-screen."""
    signs = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], np.float64)
    corners = box.centre + (signs * box.half) @ box.rotation().T
    cam = corners @ w2c[:3, :3].T + w2c[:3, 3]
    if (cam[:, 2] <= 0.1).all() or cam[:, 2].min() > MAX_RANGE:
        return None
    if (cam[:, 2] <= 0.1).any():  # straddles the image plane: test the whole image
        return 0, 0, size[0], size[1]
    uv = cam[:, :2] / cam[:, 2:3] * [K[0], K[1]] + [K[2], K[3]]
    u0, v0 = np.floor(uv.min(axis=0)).astype(int)
    u1, v1 = np.ceil(uv.max(axis=0)).astype(int) + 1
    u0, v0, u1, v1 = max(u0, 0), max(v0, 0), min(u1, size[0]), min(v1, size[1])
    return None if u0 >= u1 or v0 >= v1 else (u0, v0, u1, v1)


def render(world: World, w2c: np.ndarray, K: np.ndarray, size: tuple[int, int]):
    """Ray-cast one view: z-depth (H, W) metres (inf for sky), albedo (H, W, 3) and surface normals (H, W, 3)."""
    width, height = size
    u, v = np.meshgrid(np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64))
    rays_cam = np.stack([(u - K[2]) / K[0], (v - K[3]) / K[1], np.ones_like(u)], axis=-1)  # z = 1: t is z-depth
    R_c2w = w2c[:3, :3].T
    origin = -R_c2w @ w2c[:3, 3]
    dirs = rays_cam @ R_c2w.T  # (H, W, 3)
    depth = np.full((height, width), np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_ground = np.where(dirs[..., 1] > 1e-6, -origin[1] / dirs[..., 1], np.inf)
    depth = np.where(t_ground < MAX_RANGE, t_ground, np.inf)
    owner = np.full((height, width), -1)  # -1 ground or sky, else box index
    axis = np.zeros((height, width), int)
    for index, box in enumerate(world.boxes):
        rect = _project_box(box, w2c, K, size)
        if rect is None:
            continue
        u0, v0, u1, v1 = rect
        sub = dirs[v0:v1, u0:u1].reshape(-1, 3)
        t, ax = _intersect_box(box, origin, sub)
        t = t.reshape(v1 - v0, u1 - u0)
        closer = t < depth[v0:v1, u0:u1]
        depth[v0:v1, u0:u1][closer] = t[closer]
        owner[v0:v1, u0:u1][closer] = index
        axis[v0:v1, u0:u1][closer] = ax.reshape(t.shape)[closer]
    points = origin + dirs * np.where(np.isfinite(depth), depth, 0)[..., None]
    albedo, normals = _shade_surfaces(world, points, owner, axis, dirs, depth, K[0])
    return depth, albedo, normals


def _texture(world: World, a: np.ndarray, b: np.ndarray, footprint: np.ndarray) -> np.ndarray:
    """Tiled noise at surface coordinates (a, b) metres; `footprint` = metres covered by one pixel there."""
    texels = footprint * TEXELS_PER_METRE
    level = np.clip(np.floor(np.log2(np.maximum(texels, 1.0))), 0, len(world.mipmaps) - 1).astype(int)
    out = np.empty(a.shape, np.float32)
    for k in np.unique(level):
        texture = world.mipmaps[k]
        size = texture.shape[0]
        sel = level == k
        ia = np.floor(a[sel] * TEXELS_PER_METRE / 2**k).astype(np.int64) % size
        ib = np.floor(b[sel] * TEXELS_PER_METRE / 2**k).astype(np.int64) % size
        out[sel] = texture[ib, ia]
    return out


def _shade_surfaces(world: World, points, owner, axis, dirs, depth, focal):
    height, width = owner.shape
    albedo = np.zeros((height, width, 3))
    normals = np.zeros((height, width, 3))
    ground = owner < 0
    normals[ground] = [0, -1, 0]

    def footprint(mask, n):
        """Metres per pixel on the surface: distance / focal, stretched at grazing angles."""
        d = dirs[mask]
        length = np.linalg.norm(d, axis=-1)
        cos = np.abs(np.sum(n * d, axis=-1)) / length
        return depth[mask] * length / (focal * np.maximum(cos, 0.05))

    # Asphalt: noise at two scales, so that every patch of road has texture for the photometric loss.
    x, z = points[ground][:, 0], points[ground][:, 2]
    fp = footprint(ground, normals[ground])
    grain = 0.6 * _texture(world, x, z, fp) + 0.4 * _texture(world, 3.1 * x + 17, 3.1 * z + 5, 3.1 * fp)
    albedo[ground] = (0.22 + 0.25 * grain)[:, None] * [1.0, 1.0, 1.02]
    for index, box in enumerate(world.boxes):
        mask = owner == index
        if not mask.any():
            continue
        R = box.rotation()
        local = (points[mask] - box.centre) @ R
        ax = axis[mask]
        n_local = np.zeros_like(local)
        n_local[np.arange(len(ax)), ax] = np.sign(local[np.arange(len(ax)), ax])
        normals[mask] = n_local @ R.T
        # Face coordinates: the two box-frame axes that are not the normal axis.
        fa = np.where(ax == 0, local[:, 2], local[:, 0])
        fb = np.where(ax == 1, local[:, 2], local[:, 1])
        noise = _texture(world, fa + 7 * index, fb + 3 * index, footprint(mask, normals[mask]))
        colour = box.colour * (0.65 + 0.35 * noise)[:, None]
        if box.kind == "building":
            # Windows: a regular grid on the vertical faces, darker and bluish.
            window = (np.mod(fa, 2.6) > 0.8) & (np.mod(fa, 2.6) < 2.0) & (np.mod(fb, 3.2) > 1.0) & (ax != 1)
            colour[window] = (0.15 + 0.2 * noise[window])[:, None] * [1.4, 1.1, 0.9]
        else:
            glass = (local[:, 1] < -0.15) & (ax != 1)  # upper half of a car (y down)
            colour[glass] = (0.1 + 0.1 * noise[glass])[:, None] * [1.3, 1.1, 1.0]
        albedo[mask] = colour
    return albedo, normals


def light(world: World, depth, albedo, normals, dirs_v, variation: str, rng: np.random.Generator) -> np.ndarray:
    """Shade a rendered view for a variation: Lambert sun + ambient, sky, fog; -> (H, W, 3) uint8 BGR.

    `dirs_v` (H, W) is how far each pixel's ray points above the horizon (0 at and below it).
    """
    tint, sun, ambient, fog = _LIGHT.get(variation, _LIGHT["clone"])
    sun = np.asarray(sun, np.float64) / np.linalg.norm(sun)
    lambert = np.clip(normals @ sun, 0, None)
    image = albedo * (ambient + (1 - ambient) * lambert)[..., None]
    sky = ~np.isfinite(depth)
    elevation = (1 - dirs_v[sky])[:, None]  # brighter towards the horizon
    image[sky] = np.clip([0.95, 0.75, 0.55] + 0.25 * elevation, 0, 1)
    image *= np.asarray(tint)
    if fog is not None:
        weight = np.where(sky, 1.0, 1 - np.exp(-np.where(sky, 0, depth) / fog))[..., None]
        image = image * (1 - weight) + weight * np.array([0.78, 0.78, 0.76])
    if variation == "rain":
        image = image * 0.8 + rng.normal(0, 0.02, image.shape)
    return np.clip(image * 255 + 0.5, 0, 255).astype(np.uint8)


def synthetic_intrinsics(size: tuple[int, int]) -> np.ndarray:
    """fx, fy, cx, cy of the real Virtual KITTI camera scaled to `size` (the same field of view)."""
    sx, sy = size[0] / VKITTI1_SIZE[0], size[1] / VKITTI1_SIZE[1]
    fx, fy, cx, cy = VKITTI1_INTRINSICS
    return np.array([fx * sx, fy * sy, (cx + 0.5) * sx - 0.5, (cy + 0.5) * sy - 0.5])


def render_frame(world: World, frame: int, variations, size: tuple[int, int], rng):
    """Render one frame for several variations: {variation: (bgr uint8 (H, W, 3), depth uint16 cm, w2c (4, 4))}.

    The scene is ray-cast once per camera yaw and only re-lit per variation.
    """
    K = synthetic_intrinsics(size)
    v = (np.arange(size[1])[:, None] - K[3]) / K[1] * np.ones((1, size[0]))
    out, casts = {}, {}
    for variation in variations:
        yaw = _YAW.get(variation, 0.0)
        if yaw not in casts:
            w2c = camera_pose(world, frame, yaw)
            depth, albedo, normals = render(world, w2c, K, size)
            cm = np.where(np.isfinite(depth), np.round(depth * 100), DEPTH_INVALID)
            casts[yaw] = (w2c, depth, albedo, normals, np.clip(cm, 0, DEPTH_INVALID).astype(np.uint16))
        w2c, depth, albedo, normals, depth_cm = casts[yaw]
        out[variation] = (light(world, depth, albedo, normals, np.clip(-v, 0, 1), variation, rng), depth_cm, w2c)
    return out
