"""Synthetic Virtual KITTI: ray-cast, textured street scenes along a smooth camera path with turns.

A world is a ground plane (asphalt with lane markings), building blocks with windowed facades on both sides of a
curving road, box-shaped parked cars and a sky at infinity. Every pixel is ray-cast exactly, so the depth map, the
camera path and the images are consistent, as a photometric loss requires. Variations change the light (morning,
sunset, overcast, fog, rain) or turn the camera (15/30-deg-left/right), as in the real dataset.

World frame: x right, y down, z forward (as the KITTI camera); the ground is the plane y = 0, metres.
"""

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from pipeline.datasets.vkitti import DEPTH_INVALID, VKITTI1_INTRINSICS, VKITTI1_SIZE
from pipeline.geometry import rigid, rotation_matrix
from pipeline.parallel import ordered_map
from pipeline.synthetic import write_marker

CAMERA_HEIGHT = 1.65
FRAME_SPACING = 0.8  # metres travelled between frames
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


@dataclass
class SynthVkitti:
    """params.yaml synthetic.vkitti: the stand-in's worlds, variations, length and resolution."""

    seed: int
    worlds: list[str]
    variations: list[str]
    frames: int = 80
    size: tuple[int, int] = (621, 188)  # width, height; the real dataset is 1242x375
    layout: Literal["vkitti1", "vkitti2"] = "vkitti1"

    def units(self) -> int:
        return len(self.worlds) * len(self.variations) * self.frames


@dataclass
class Box:
    centre: np.ndarray  # (3,) the box centre, world
    half: np.ndarray  # (3,) half extents in the box frame
    yaw: float  # rotation about the world y axis
    colour: np.ndarray  # (3,) BGR base colour in [0, 1]
    kind: str  # "building" or "car"

    def rotation(self) -> np.ndarray:
        return rotation_matrix("y", self.yaw)


@dataclass
class World:
    positions: np.ndarray  # (N, 3) camera centres
    headings: np.ndarray  # (N,) yaw of the driving direction
    boxes: list[Box]
    mipmaps: list[np.ndarray]  # tiled value noise in [0, 1]: (T, T), (T/2, T/2), ... each a blurred half of the last


def value_noise(rng: np.random.Generator, size: int = 512, octaves: int = 5) -> np.ndarray:
    """Tileable multi-octave value noise (size, size) in [0, 1]."""
    out = np.zeros((size, size), np.float32)
    weight = 0.5
    for octave in range(octaves):
        cells = 4 * 2**octave
        grid = rng.random((cells, cells)).astype(np.float32)
        grid = np.pad(grid, ((0, 1), (0, 1)), mode="wrap")
        up = cv2.resize(grid, (size + size // cells, size + size // cells), interpolation=cv2.INTER_CUBIC)
        out += weight * up[:size, :size]
        weight *= 0.5
    out -= out.min()
    return out / out.max()


def _path(rng: np.random.Generator, frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Camera centres (N, 3) and headings (N,) along a road that turns left and right smoothly."""
    s = np.arange(frames) * FRAME_SPACING
    period = rng.uniform(60, 110)
    heading = rng.uniform(0.35, 0.6) * np.sin(2 * np.pi * s / period + rng.uniform(0, 2 * np.pi))
    heading += 0.2 * np.sin(2 * np.pi * s / (0.45 * period))
    x = np.concatenate([[0], np.cumsum(np.sin(heading[:-1]) * FRAME_SPACING)])
    z = np.concatenate([[0], np.cumsum(np.cos(heading[:-1]) * FRAME_SPACING)])
    return np.stack([x, np.full(frames, -CAMERA_HEIGHT), z], axis=1), heading


def _clear_of_road(box: Box, path: np.ndarray, clearance: float) -> bool:
    """True when every path point stays `clearance` metres away from the box footprint."""
    local = (path - box.centre) @ box.rotation()  # world -> box frame
    dx = np.maximum(np.abs(local[:, 0]) - box.half[0], 0)
    dz = np.maximum(np.abs(local[:, 2]) - box.half[2], 0)
    return bool(np.min(np.hypot(dx, dz)) > clearance)


def build_world(seed: int, name: str, frames: int) -> World:
    rng = np.random.default_rng([seed, int(name) if name.isdigit() else sum(map(ord, name))])
    positions, headings = _path(rng, frames + 40)  # extend the road beyond the last frame
    boxes = []
    arc = np.arange(len(headings)) * FRAME_SPACING
    for side in (-1, 1):
        s = -20.0
        while s < arc[-1] + 60:
            width = rng.uniform(7, 14)
            i = int(np.clip((s + width / 2) / FRAME_SPACING, 0, len(headings) - 1))  # the facade's middle
            heading = headings[i]
            forward = np.array([np.sin(heading), 0, np.cos(heading)])
            normal = np.array([np.cos(heading), 0, -np.sin(heading)])
            depth, height = rng.uniform(6, 12), rng.uniform(6, 22)
            setback = rng.uniform(6.5, 9.0)
            base = positions[i] * [1, 0, 1] + forward * (s + width / 2 - arc[i])
            centre = base + normal * side * (setback + depth / 2) + [0, -height / 2, 0]
            colour = rng.uniform([0.35, 0.35, 0.4], [0.85, 0.8, 0.8])
            boxes.append(Box(centre, np.array([width / 2, height / 2, depth / 2]), heading, colour, "building"))
            if rng.random() < 0.6:  # a parked car in front of the building
                car_centre = base + normal * side * rng.uniform(3.0, 3.6) + forward * rng.uniform(-3, 3)
                car_centre[1] = -0.75
                boxes.append(Box(car_centre, np.array([0.9, 0.75, 2.1]), heading + rng.normal(0, 0.05),
                                 rng.uniform(0.1, 0.9, 3), "car"))
            s += width + rng.uniform(1.0, 6.0)
    # Buildings are aligned with the road where they stand; on a turn one may reach into the road: drop it.
    road = positions[:, [0, 2]]
    path3 = np.stack([road[:, 0], np.zeros(len(road)), road[:, 1]], axis=1)
    boxes = [b for b in boxes if _clear_of_road(b, path3, 1.6 if b.kind == "car" else 3.0)]
    return World(positions[:frames], headings[:frames], boxes, mipmaps(value_noise(rng)))


def mipmaps(texture: np.ndarray, levels: int = 7) -> list[np.ndarray]:
    """Box-filtered halvings of a tileable texture, so that distant surfaces are sampled without aliasing."""
    pyramid = [texture]
    for _ in range(levels - 1):
        t = pyramid[-1]
        pyramid.append(t.reshape(t.shape[0] // 2, 2, t.shape[1] // 2, 2).mean(axis=(1, 3)))  # 2x2 blocks
    return pyramid


def camera_pose(world: World, frame: int, yaw_offset_deg: float = 0.0) -> np.ndarray:
    """World-to-camera 4x4 of a frame; the camera looks along the road, optionally turned by a yaw offset."""
    R_c2w = rotation_matrix("y", world.headings[frame] + np.radians(yaw_offset_deg))
    R = R_c2w.T
    return rigid(R, -R @ world.positions[frame])


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


_EXTR_HEADER = "r1,1 r1,2 r1,3 t1 r2,1 r2,2 r2,3 t2 r3,1 r3,2 r3,3 t3 0 0 0 1"


class _LayoutWriter:
    """Files of one world and variation in the Virtual KITTI 1.3.1 or 2 layout."""

    def __init__(self, root: Path, layout: str, world: str, variation: str, size, jpeg_quality: int):
        self.layout, self.jpeg_quality, self.size = layout, jpeg_quality, size
        if layout == "vkitti1":
            self.rgb_dir = root / "vkitti_1.3.1_rgb" / world / variation
            self.depth_dir = root / "vkitti_1.3.1_depthgt" / world / variation
            self.extr_path = root / "vkitti_1.3.1_extrinsicsgt" / f"{world}_{variation}.txt"
            self.extr_lines = ["frame " + _EXTR_HEADER]
            self.intr_lines = None
        else:
            base = root / world / variation
            self.rgb_dir = base / "frames" / "rgb" / "Camera_0"
            self.depth_dir = base / "frames" / "depth" / "Camera_0"
            self.extr_path = base / "extrinsic.txt"
            self.extr_lines = ["frame cameraID " + _EXTR_HEADER]
            self.intr_lines = ["frame cameraID K[0,0] K[1,1] K[0,2] K[1,2]"]
        for folder in (self.rgb_dir, self.depth_dir, self.extr_path.parent):
            folder.mkdir(parents=True, exist_ok=True)

    def write(self, frame: int, bgr: np.ndarray, depth_cm: np.ndarray, w2c: np.ndarray) -> None:
        matrix = " ".join(f"{value:.9g}" for value in w2c.reshape(-1))
        if self.layout == "vkitti1":
            cv2.imwrite(str(self.rgb_dir / f"{frame:05d}.png"), bgr)
            cv2.imwrite(str(self.depth_dir / f"{frame:05d}.png"), depth_cm)
            self.extr_lines.append(f"{frame} {matrix}")
        else:
            cv2.imwrite(str(self.rgb_dir / f"rgb_{frame:05d}.jpg"), bgr, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
            cv2.imwrite(str(self.depth_dir / f"depth_{frame:05d}.png"), depth_cm)
            self.extr_lines.append(f"{frame} 0 {matrix}")
            self.intr_lines.append(f"{frame} 0 " + " ".join(f"{k:.6f}" for k in synthetic_intrinsics(self.size)))

    def close(self) -> None:
        self.extr_path.write_text("\n".join(self.extr_lines) + "\n")
        if self.intr_lines is not None:
            (self.extr_path.parent / "intrinsic.txt").write_text("\n".join(self.intr_lines) + "\n")


def write_vkitti(root: Path, *, seed: int, worlds, variations, frames: int, size: tuple[int, int],
                 layout: str = "vkitti1", jpeg_quality: int = 95, progress=None, workers: int = 1) -> None:
    """Write worlds x variations in the Virtual KITTI 1.3.1 (`vkitti1`) or 2 (`vkitti2`) layout, a world per worker
    process (`pipeline.parallel`: the files do not depend on `workers`)."""
    root = Path(root)
    unknown = [v for v in variations if v not in VARIATIONS]
    if unknown:
        raise ValueError(f"unknown variation {unknown[0]!r}; expected one of {VARIATIONS}")
    write = functools.partial(_write_world, root, seed=seed, variations=list(variations), frames=frames,
                              size=tuple(size), layout=layout, jpeg_quality=jpeg_quality)
    for _ in ordered_map(write, worlds, workers):
        if progress is not None:
            progress.step(frames * len(variations))
    write_marker(root, "vkitti", seed, layout=layout, worlds=list(worlds), variations=list(variations),
                 frames=frames, size=list(size))


def _write_world(root: Path, world_name: str, *, seed: int, variations: list[str], frames: int,
                 size: tuple[int, int], layout: str, jpeg_quality: int) -> None:
    world = build_world(seed, world_name, frames)
    rng = np.random.default_rng([seed, frames])
    writers = {v: _LayoutWriter(root, layout, world_name, v, size, jpeg_quality) for v in variations}
    for frame in range(frames):
        for variation, (bgr, depth_cm, w2c) in render_frame(world, frame, variations, size, rng).items():
            writers[variation].write(frame, bgr, depth_cm, w2c)
    for writer in writers.values():
        writer.close()


@dataclass
class SynthKittiOdometry:
    """params.yaml synthetic.kitti_odometry: the stand-in's drives in the KITTI odometry layout."""

    seed: int
    sequences: list[str]
    frames: int = 100
    size: tuple[int, int] = (621, 188)  # width, height; the real sequences are about 1241x376

    def units(self) -> int:
        return len(self.sequences) * self.frames


def write_kitti_odometry_root(root: Path, *, seed: int, sequences, frames: int, size: tuple[int, int],
                              progress=None, workers: int = 1) -> None:
    """Write synthetic drives in the KITTI odometry layout, one per sequence name, a sequence per worker process
    (`pipeline.parallel`: the files do not depend on `workers`)."""
    write = functools.partial(write_kitti_odometry, Path(root), seed=seed, frames=frames, size=tuple(size))
    for _ in ordered_map(write, sequences, workers):
        if progress is not None:
            progress.step(frames)
    write_marker(root, "kitti_odometry", seed, sequences=list(sequences), frames=frames, size=list(size))


def write_kitti_odometry(root: Path, sequence: str, *, seed: int, frames: int, size: tuple[int, int]) -> None:
    """A synthetic street drive in the KITTI odometry layout (image_2, calib.txt, poses relative to frame 0)."""
    root = Path(root)
    images = root / "sequences" / sequence / "image_2"
    images.mkdir(parents=True, exist_ok=True)
    world = build_world(seed, sequence, frames)
    rng = np.random.default_rng([seed, frames])
    fx, fy, cx, cy = synthetic_intrinsics(size)
    lines = []
    first = None
    for frame in range(frames):
        bgr, _, w2c = render_frame(world, frame, ["clone"], size, rng)["clone"]
        cv2.imwrite(str(images / f"{frame:06d}.png"), bgr)
        first = w2c if first is None else first
        pose = first @ np.linalg.inv(w2c)  # camera-to-world, the world being the first camera's frame
        lines.append(" ".join(f"{v:.9e}" for v in pose[:3].reshape(-1)))
    (root / "poses").mkdir(exist_ok=True)
    (root / "poses" / f"{sequence}.txt").write_text("\n".join(lines) + "\n")
    baseline = 0.54  # metres between KITTI's stereo pairs
    calib = []
    for index, shift in enumerate((0.0, -baseline, 0.06, -baseline + 0.06)):
        P = np.array([[fx, 0, cx, fx * shift], [0, fy, cy, 0], [0, 0, 1, 0]])
        calib.append(f"P{index}: " + " ".join(f"{v:.12e}" for v in P.reshape(-1)))
    calib.append("Tr: " + " ".join(f"{v:.12e}" for v in np.eye(4)[:3].reshape(-1)))
    (root / "sequences" / sequence / "calib.txt").write_text("\n".join(calib) + "\n")
