"""The stand-in street worlds: a curving road with lane markings, building blocks with windowed facades on both
sides, parked cars, tiled value-noise texture, and the camera path along the road.

World frame: x right, y down, z forward (as the KITTI camera); the ground is the plane y = 0, metres.
"""

from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.geometry import rigid, rotation_matrix

CAMERA_HEIGHT = 1.65
FRAME_SPACING = 0.8  # metres travelled between frames


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
