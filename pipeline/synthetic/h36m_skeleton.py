"""A 32-joint Human3.6M skeleton posed by named joint angles, with human joint limits and floor contact.

A pose is a vector of named degrees of freedom (`DOFS`, degrees; `seat` in millimetres). Limbs swing by `raise`
(the angle away from hanging straight down) towards an `az`imuth in the horizontal plane of their parent (0: forward,
90: outwards, negative: across the body) and twist about their own axis; knees and elbows only bend one way. Body
frame: x = the subject's left, y = forward, z = up; world frame as in Human3.6M: millimetres, z up, floor at z = 0.
"""

import numpy as np

from pipeline.geometry import rotation_matrix
from pipeline.skeleton import PARENTS_32

# Offset of each joint from its parent in the rest pose (standing, arms hanging), body frame, millimetres: the mean
# adult proportions of the Human3.6M subjects.
_REST = {
    1: (-132, 0, 0), 2: (0, 0, -442), 3: (0, 0, -454), 4: (0, 130, -40), 5: (0, 60, 0),
    6: (132, 0, 0), 7: (0, 0, -442), 8: (0, 0, -454), 9: (0, 130, -40), 10: (0, 60, 0),
    11: (0, 0, 0), 12: (0, 10, 233), 13: (0, 20, 257), 14: (0, 45, 115), 15: (0, -15, 115),
    16: (0, 20, 257), 17: (151, -10, -30), 18: (0, 0, -278), 19: (0, 0, -252), 20: (0, 0, 0), 21: (0, 0, -90),
    22: (0, 0, 0), 23: (0, 45, -40),
    24: (0, 20, 257), 25: (-151, -10, -30), 26: (0, 0, -278), 27: (0, 0, -252), 28: (0, 0, 0), 29: (0, 0, -90),
    30: (0, 0, 0), 31: (0, 45, -40),
}
REST_OFFSETS = np.array([_REST.get(j, (0, 0, 0)) for j in range(32)], np.float64)
_MIRROR = {1: 6, 2: 7, 3: 8, 4: 9, 5: 10, 16: 24, 17: 25, 18: 26, 19: 27, 20: 28, 21: 29, 22: 30, 23: 31}
# Distance from each joint centre to the body's surface below it, mm: what touches the floor first.
_SURFACE = {0: 100, 1: 90, 6: 90, 2: 55, 7: 55, 3: 45, 8: 45, 4: 25, 9: 25, 5: 20, 10: 20, 11: 100, 12: 110,
            13: 90, 14: 70, 15: 80, 16: 90, 24: 90, 17: 55, 25: 55, 18: 40, 26: 40}
SURFACE = np.array([_SURFACE.get(j, 30) for j in range(32)], np.float64)
HIP_ABOVE_SEAT = 100.0  # hip joint centre above the seat surface, mm

_SIDE_DOFS = ("hip_raise", "hip_az", "hip_twist", "knee", "ankle", "clav_elev", "clav_prot", "sh_raise", "sh_az",
              "sh_twist", "elbow")
DOFS = ("pitch", "roll", "waist_bend", "waist_side", "waist_twist", "chest_bend", "chest_side", "chest_twist",
        "neck_bend", "neck_side", "neck_twist", *(f"{s}_{d}" for s in "lr" for d in _SIDE_DOFS), "seat")
INDEX = {name: i for i, name in enumerate(DOFS)}

# Human joint limits, degrees (seat: mm). A negative raise swings the limb backwards.
_LIMITS = {
    "pitch": (-95, 95), "roll": (-95, 95),
    "waist_bend": (-30, 95), "waist_side": (-35, 35), "waist_twist": (-45, 45),
    "chest_bend": (-20, 35), "chest_side": (-20, 20), "chest_twist": (-30, 30),
    "neck_bend": (-45, 60), "neck_side": (-35, 35), "neck_twist": (-75, 75),
    "hip_raise": (-25, 130), "hip_az": (-30, 65), "hip_twist": (-40, 45), "knee": (0, 150), "ankle": (-30, 45),
    "clav_elev": (-10, 35), "clav_prot": (-20, 25),
    "sh_raise": (-55, 180), "sh_az": (-45, 125), "sh_twist": (-70, 95), "elbow": (0, 150),
    "seat": (0, 700),
}
LOWER = np.array([_LIMITS[n.split("_", 1)[1] if n[:2] in ("l_", "r_") else n][0] for n in DOFS], np.float64)
UPPER = np.array([_LIMITS[n.split("_", 1)[1] if n[:2] in ("l_", "r_") else n][1] for n in DOFS], np.float64)


def subject_offsets(rng: np.random.Generator) -> np.ndarray:
    """Bone offsets (32, 3) of one subject: a height scale (about 1.55-1.85 m) and symmetric per-bone proportions."""
    scale = np.clip(rng.normal(1.0, 0.05), 0.9, 1.1)
    per_bone = np.clip(rng.normal(1.0, 0.04), 0.9, 1.1) * np.clip(rng.normal(1.0, 0.04, 32), 0.9, 1.1)
    for right, left in _MIRROR.items():
        per_bone[left] = per_bone[right]
    return REST_OFFSETS * (scale * per_bone)[:, None]


def scapular_rhythm(dofs: np.ndarray) -> np.ndarray:
    """The shoulder girdle follows the arm: above 60 degrees of raise the clavicle lifts by a third of the extra
    raise, and reaching across the body draws the shoulder forwards."""
    out = dofs.copy()
    for side in "lr":
        raise_, az = out[:, INDEX[f"{side}_sh_raise"]], out[:, INDEX[f"{side}_sh_az"]]
        out[:, INDEX[f"{side}_clav_elev"]] += np.maximum(raise_ - 60, 0) / 3
        out[:, INDEX[f"{side}_clav_prot"]] += np.clip(-az, 0, None) * np.clip(raise_, 0, 90) / 180
    return out


def clamp_to_limits(dofs: np.ndarray) -> np.ndarray:
    """Clip (N, D) pose vectors to the joint limits; a leg raised outwards cannot also be raised as far forwards."""
    out = np.clip(dofs, LOWER, UPPER)
    for side in "lr":
        raise_, az = INDEX[f"{side}_hip_raise"], INDEX[f"{side}_hip_az"]
        out[:, raise_] = np.minimum(out[:, raise_], 130 - 0.8 * np.maximum(out[:, az], 0))
    return out


def _axis_angle(axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rotations (N, 3, 3) by `angle` radians (N,) about unit axes (N, 3) (Rodrigues)."""
    x, y, z = axis[:, 0], axis[:, 1], axis[:, 2]
    zero = np.zeros_like(x)
    k = np.stack([np.stack([zero, -z, y], -1), np.stack([z, zero, -x], -1), np.stack([-y, x, zero], -1)], -2)
    s, c = np.sin(angle)[:, None, None], np.cos(angle)[:, None, None]
    return np.eye(3) + s * k + (1 - c) * (k @ k)


def _swing(raise_deg, az_deg, twist_deg, side: float) -> np.ndarray:
    """A limb's local rotation: twist about its axis, then swing from hanging down towards the azimuth."""
    az = np.radians(az_deg)
    horizontal = np.stack([side * np.sin(az), np.cos(az), np.zeros_like(az)], -1)  # where the limb swings to
    axis = np.stack([horizontal[:, 1], -horizontal[:, 0], np.zeros_like(az)], -1)  # down x horizontal
    return _axis_angle(axis, np.radians(raise_deg)) @ rotation_matrix("z", side * np.radians(twist_deg))


def _trunk(bend, side_bend, twist) -> np.ndarray:
    """Rotation of an upward segment: twist about z, bend sideways and forwards (positive bends forwards)."""
    r = np.radians
    return rotation_matrix("z", r(twist)) @ rotation_matrix("y", r(side_bend)) @ rotation_matrix("x", -r(bend))


def local_rotations(dofs: np.ndarray) -> dict[int, np.ndarray]:
    """Pose vectors (N, D) -> per-joint local rotations {joint: (N, 3, 3)} for `forward_kinematics`."""
    d = {name: dofs[:, i] for name, i in INDEX.items()}
    local = {
        11: _trunk(d["waist_bend"], d["waist_side"], d["waist_twist"]),
        12: _trunk(d["chest_bend"], d["chest_side"], d["chest_twist"]),
        13: _trunk(d["neck_bend"], d["neck_side"], d["neck_twist"]),
    }
    sides = (("l", 1.0, 6, 7, 8, 16, 17, 18), ("r", -1.0, 1, 2, 3, 24, 25, 26))
    for prefix, side, hip, knee, ankle, clavicle, shoulder, elbow in sides:
        local[hip] = _swing(d[f"{prefix}_hip_raise"], d[f"{prefix}_hip_az"], d[f"{prefix}_hip_twist"], side)
        local[knee] = rotation_matrix("x", -np.radians(d[f"{prefix}_knee"]))  # the shin folds backwards
        local[ankle] = rotation_matrix("x", np.radians(d[f"{prefix}_ankle"]))
        # The clavicle lifts the shoulder (about the forward axis) and draws it forwards (about the vertical).
        local[clavicle] = (rotation_matrix("z", side * np.radians(d[f"{prefix}_clav_prot"]))
                           @ rotation_matrix("y", -side * np.radians(d[f"{prefix}_clav_elev"])))
        local[shoulder] = _swing(d[f"{prefix}_sh_raise"], d[f"{prefix}_sh_az"], d[f"{prefix}_sh_twist"], side)
        local[elbow] = rotation_matrix("x", np.radians(d[f"{prefix}_elbow"]))  # the forearm folds forwards
    return local


def root_orientation(yaw: np.ndarray, dofs: np.ndarray) -> np.ndarray:
    """Body-to-world rotations (N, 3, 3): heading `yaw` (radians) about z, then forward pitch and sideways roll."""
    pitch, roll = np.radians(dofs[:, INDEX["pitch"]]), np.radians(dofs[:, INDEX["roll"]])
    return rotation_matrix("z", yaw) @ rotation_matrix("x", -pitch) @ rotation_matrix("y", roll)


def forward_kinematics(offsets: np.ndarray, local: dict[int, np.ndarray], root_pos: np.ndarray,
                       root_rot: np.ndarray) -> np.ndarray:
    """Joint positions (N, 32, 3) from local rotations {joint: (N, 3, 3)}, root positions (N, 3) and root rotations
    (N, 3, 3)."""
    n = root_pos.shape[0]
    identity = np.broadcast_to(np.eye(3), (n, 3, 3))
    glob = [None] * 32
    pos = np.zeros((n, 32, 3))
    for j, parent in enumerate(PARENTS_32):
        if parent < 0:
            glob[j] = root_rot @ local.get(j, identity)
            pos[:, j] = root_pos
            continue
        pos[:, j] = pos[:, parent] + np.einsum("nij,j->ni", glob[parent], offsets[j])
        glob[j] = glob[parent] @ local.get(j, identity)
    return pos


def pose_on_floor(offsets: np.ndarray, dofs: np.ndarray, xy: np.ndarray, yaw: np.ndarray) -> np.ndarray:
    """World joint positions (N, 32, 3): the posed skeleton lowered until its body touches the floor, or held at
    the seat's height (`seat` > 0) when that is higher."""
    dofs = clamp_to_limits(scapular_rhythm(dofs))
    root = np.concatenate([xy, np.zeros((len(xy), 1))], axis=1)
    pos = forward_kinematics(offsets, local_rotations(dofs), root, root_orientation(yaw, dofs))
    lift = (SURFACE - pos[..., 2]).max(axis=1)  # the lowest body surface at z = 0
    seat = dofs[:, INDEX["seat"]]
    lift = np.where(seat > 0, np.maximum(lift, seat + HIP_ABOVE_SEAT), lift)
    pos[..., 2] += lift[:, None]
    return pos
