"""Synthetic Human3.6M in the 3d-pose-baseline layout (and the VideoPose3D npz for tests of that reader).

A 32-joint skeleton in H36M joint order with realistic bone lengths and per-subject proportions is driven by forward
kinematics through six actions with distinct motion (walking, sitting, sitting down, arm gestures, waving, phoning).
Four calibrated cameras with H36M-like intrinsics and distortion stand around the capture area at the real distances.
World frame as in Human3.6M: millimetres, z up, floor at z = 0.
"""

from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from pipeline.datasets.h36m import CAMERA_IDS, PARENTS_32, subject_number
from pipeline.geometry import look_at, rotation_matrix
from pipeline.synthetic import write_marker

ACTIONS = ("Directions", "Greeting", "Phoning", "Sitting", "SittingDown", "Walking")
FPS = 50


@dataclass
class SynthH36m:
    """params.yaml synthetic.h36m: the stand-in's size."""

    seed: int
    frames: int = 250  # per take, at 50 fps
    subjects: list[str] = field(default_factory=lambda: ["S1", "S5", "S6", "S7", "S8", "S9", "S11"])
    actions: list[str] = field(default_factory=lambda: list(ACTIONS))
    takes: int = 2

    def units(self) -> int:
        return len(self.subjects) * len(self.actions) * self.takes

# Offset of each joint from its parent in the rest pose, body frame (x = subject's left, y = forward, z = up), mm.
_REST = {
    1: (-130, 0, 0), 2: (0, 0, -450), 3: (0, 0, -440), 4: (0, 130, -40), 5: (0, 60, 0),
    6: (130, 0, 0), 7: (0, 0, -450), 8: (0, 0, -440), 9: (0, 130, -40), 10: (0, 60, 0),
    11: (0, 0, 0), 12: (0, 10, 230), 13: (0, 20, 250), 14: (0, 45, 110), 15: (0, -15, 120),
    16: (0, 20, 250), 17: (150, -10, -30), 18: (0, 0, -280), 19: (0, 0, -250), 20: (0, 0, 0), 21: (0, 0, -90),
    22: (0, 0, 0), 23: (0, 45, -40),
    24: (0, 20, 250), 25: (-150, -10, -30), 26: (0, 0, -280), 27: (0, 0, -250), 28: (0, 0, 0), 29: (0, 0, -90),
    30: (0, 0, 0), 31: (0, 45, -40),
}
REST_OFFSETS = np.array([_REST.get(j, (0, 0, 0)) for j in range(32)], np.float64)
_MIRROR = {1: 6, 2: 7, 3: 8, 4: 9, 5: 10, 16: 24, 17: 25, 18: 26, 19: 27, 20: 28, 21: 29, 22: 30, 23: 31}

# Real Human3.6M camera centres (world mm) of subject 1, used as the mean placement.
_CAMERA_CENTRES = np.array([[1841, 4955, 1563], [1761, -5078, 1606], [-1846, 5215, 1492], [-1794, -3722, 1575]],
                           np.float64)


def subject_offsets(rng: np.random.Generator) -> np.ndarray:
    """Bone offsets (32, 3) of one subject: a global height scale and symmetric per-bone proportions."""
    scale = np.clip(rng.normal(1.0, 0.06), 0.88, 1.12)
    per_bone = np.clip(rng.normal(1.0, 0.05, 32), 0.88, 1.12)
    for right, left in _MIRROR.items():
        per_bone[left] = per_bone[right]
    return REST_OFFSETS * (scale * per_bone)[:, None]


def forward_kinematics(offsets: np.ndarray, local: dict[int, np.ndarray], root_pos: np.ndarray,
                       heading: np.ndarray) -> np.ndarray:
    """Joint positions (N, 32, 3) from per-joint local rotations {joint: (N, 3, 3)}, root position and heading."""
    n = root_pos.shape[0]
    identity = np.broadcast_to(np.eye(3), (n, 3, 3))
    glob = [None] * 32
    pos = np.zeros((n, 32, 3))
    for j, parent in enumerate(PARENTS_32):
        if parent < 0:
            glob[j] = rotation_matrix("z", heading) @ local.get(j, identity)
            pos[:, j] = root_pos
            continue
        pos[:, j] = pos[:, parent] + np.einsum("nij,j->ni", glob[parent], offsets[j])
        glob[j] = glob[parent] @ local.get(j, identity)
    return pos


def _euler(flex=0.0, abduct=0.0, twist=0.0) -> np.ndarray:
    """Local rotation: flexion about x (forward swing), abduction about y (sideways), twist about z."""
    return rotation_matrix("z", twist) @ rotation_matrix("y", abduct) @ rotation_matrix("x", flex)


def _smoothstep(x):
    x = np.clip(x, 0, 1)
    return x * x * (3 - 2 * x)


def action_motion(action: str, t: np.ndarray, rng: np.random.Generator):
    """Local joint rotations, root position (N, 3) and heading (N,) for one take of an action."""
    d = np.radians
    amp = rng.uniform(0.85, 1.15)
    phase = rng.uniform(0, 2 * np.pi)
    heading0 = rng.uniform(-np.pi, np.pi)
    n = t.shape[0]
    zeros = np.zeros(n)
    centre = rng.uniform(-400, 400, size=2)
    sway = 20 * np.sin(0.7 * t + phase)
    root = np.stack([centre[0] + sway, centre[1] + 0.5 * sway, np.full(n, 930.0)], axis=1)
    heading = heading0 + 0.15 * np.sin(0.3 * t + phase)
    head = {14: _euler(d(10 * np.sin(0.5 * t + phase)), zeros, d(25 * np.sin(0.4 * t)))}
    if action == "Walking":
        freq = rng.uniform(0.8, 1.0)
        w = 2 * np.pi * freq * t + phase
        radius = rng.uniform(1200, 1700, size=2)
        angle = 0.45 * t / (radius.mean() / 1000) + phase  # ~1.2 m/s along an ellipse
        root = np.stack([centre[0] + radius[0] * np.cos(angle), centre[1] + radius[1] * np.sin(angle),
                         920 + 15 * np.sin(2 * w)], axis=1)
        velocity = np.gradient(root[:, :2], axis=0)
        heading = np.arctan2(velocity[:, 1], velocity[:, 0]) - np.pi / 2  # body y axis along the velocity
        swing = amp * d(25) * np.sin(w)
        local = {
            1: _euler(swing), 6: _euler(-swing),
            2: _euler(-d(10) - amp * d(35) * np.clip(np.sin(w + 1.2), 0, None)),
            7: _euler(-d(10) - amp * d(35) * np.clip(np.sin(w + np.pi + 1.2), 0, None)),
            17: _euler(-0.8 * swing, d(8)), 25: _euler(0.8 * swing, -d(8)),
            18: _euler(d(15) + zeros), 26: _euler(d(15) + zeros),
            12: _euler(d(5) + zeros, zeros, 0.3 * swing),
        }
    elif action in ("Sitting", "SittingDown"):
        if action == "Sitting":
            alpha = np.ones(n)
        else:  # stand -> sit -> stand cycles
            cycle = (t * rng.uniform(0.14, 0.2) + phase / (2 * np.pi)) % 1.0
            alpha = _smoothstep(np.minimum(cycle, 1 - cycle) * 3.0)
        lean = d(10) + d(25) * np.sin(np.pi * alpha) * (action == "SittingDown")
        gesture = amp * d(30) * np.clip(np.sin(0.6 * t + phase), 0, None)
        root[:, 2] = 930 - 440 * alpha
        local = {
            1: _euler(d(85) * alpha, d(-8) * alpha), 6: _euler(d(85) * alpha, d(8) * alpha),
            2: _euler(-d(88) * alpha), 7: _euler(-d(88) * alpha),
            12: _euler(lean), 13: _euler(d(5) + zeros),
            17: _euler(d(25) * alpha + gesture, d(10) + zeros), 25: _euler(d(25) * alpha, -d(10) + zeros),
            18: _euler(d(50) * alpha + 1.5 * gesture), 26: _euler(d(55) * alpha),
        }
    elif action == "Directions":
        point = _smoothstep(0.5 + 0.5 * np.sin(0.5 * t + phase) * 1.6)
        point2 = _smoothstep(0.5 + 0.5 * np.sin(0.37 * t + 2 * phase) * 1.6)
        local = {
            17: _euler(amp * d(80) * point, d(10) + d(40) * point2), 18: _euler(d(20) * (1 - point) + d(5)),
            25: _euler(amp * d(60) * point2, -d(15) - d(30) * point), 26: _euler(d(30) * (1 - point2) + d(5)),
            12: _euler(d(5) + zeros, zeros, d(20) * np.sin(0.45 * t + phase)),
            1: _euler(d(5) * np.sin(0.5 * t)), 6: _euler(-d(5) * np.sin(0.5 * t)),
        }
    elif action == "Greeting":
        wave = np.sin(2 * np.pi * rng.uniform(1.5, 2.2) * t)
        raise_arm = _smoothstep(0.5 + 0.8 * np.sin(0.4 * t + phase))
        local = {
            25: _euler(d(30) * raise_arm, -d(20) - amp * d(130) * raise_arm),
            26: _euler(d(20) + d(60) * raise_arm + d(30) * wave * raise_arm),
            17: _euler(d(10) + zeros, d(8) + zeros), 18: _euler(d(20) + zeros),
            12: _euler(d(15) * np.clip(np.sin(0.25 * t + phase), 0, None)),
            1: _euler(d(8) * np.sin(0.9 * t)), 6: _euler(-d(8) * np.sin(0.9 * t)),
        }
    elif action == "Phoning":
        step = np.sin(2 * np.pi * 0.5 * t + phase)
        local = {
            17: _euler(d(35) + zeros, d(25) + zeros), 18: _euler(amp * d(135) + zeros, zeros, d(-30) + zeros),
            25: _euler(d(20) * np.sin(0.6 * t + phase), -d(10) + zeros), 26: _euler(d(25) + d(20) * step),
            1: _euler(d(12) * step), 6: _euler(-d(12) * step),
            2: _euler(-d(15) * np.clip(step, 0, None)), 7: _euler(-d(15) * np.clip(-step, 0, None)),
            12: _euler(d(8) + zeros, d(5) * step),
        }
        root[:, 0] += 300 * np.sin(0.2 * t + phase)
    else:
        raise ValueError(f"unknown synthetic action {action!r}")
    local.update({k: v for k, v in head.items() if k not in local})
    return local, root, heading


def subject_cameras(rng: np.random.Generator) -> list[dict]:
    """Four cameras around the capture area: world-to-camera R, centre T, intrinsics and distortion."""
    cameras = []
    for index, centre in enumerate(_CAMERA_CENTRES):
        eye = centre + rng.normal(0, 60, 3)
        target = np.array([0.0, 0.0, 900.0]) + rng.normal(0, 150, 3)
        cameras.append({
            "R": look_at(eye, target, np.array([0.0, 0.0, 1.0])),
            "T": eye,
            "f": np.full(2, rng.uniform(1143, 1150)) + rng.normal(0, 1, 2),
            "c": np.array([512.0, 508.0]) + rng.normal(0, 5, 2),
            "k": np.array([-0.205, 0.245, -0.003]) + rng.normal(0, [0.005, 0.01, 0.003]),
            "p": rng.normal(0, 0.0012, 2),
            "name": CAMERA_IDS[index],
        })
    return cameras


def write_cameras_h5(path: Path, cameras_by_subject: dict[str, list[dict]]) -> None:
    """cameras.h5 as in 3d-pose-baseline: R stored transposed, vectors as column arrays, Name as char codes."""
    with h5py.File(path, "w") as hf:
        for subject, cameras in cameras_by_subject.items():
            for index, cam in enumerate(cameras, 1):
                g = hf.create_group(f"subject{subject_number(subject)}/camera{index}")
                g["R"] = cam["R"].T
                g["T"] = cam["T"].reshape(3, 1)
                g["f"] = cam["f"].reshape(2, 1)
                g["c"] = cam["c"].reshape(2, 1)
                g["k"] = cam["k"].reshape(3, 1)
                g["p"] = cam["p"].reshape(2, 1)
                g["Name"] = np.frombuffer(cam["name"].encode(), np.uint8)


def subject_sequences(subject: str, seed: int, frames: int, actions=ACTIONS, takes: int = 2):
    """{sequence name: poses (N, 32, 3) mm} for one subject, deterministic from (seed, subject)."""
    rng = np.random.default_rng([seed, subject_number(subject)])
    offsets = subject_offsets(rng)
    t = np.arange(frames) / FPS
    sequences = {}
    for action in actions:
        for take in range(takes):
            name = action if take == 0 else f"{action} {take}"
            local, root, heading = action_motion(action, t, rng)
            sequences[name] = forward_kinematics(offsets, local, root, heading)
    return sequences


def write_h36m(root: Path, *, seed: int, frames: int, subjects, actions=ACTIONS, takes: int = 2,
               progress=None) -> None:
    """Write `root` in the 3d-pose-baseline layout: S*/MyPoses/3D_positions/<Action>[ N].h5 and cameras.h5."""
    root = Path(root)
    cameras = {}
    for subject in subjects:
        folder = root / subject / "MyPoses" / "3D_positions"
        folder.mkdir(parents=True, exist_ok=True)
        for name, poses in subject_sequences(subject, seed, frames, actions, takes).items():
            with h5py.File(folder / f"{name}.h5", "w") as hf:
                hf["3D_positions"] = poses.reshape(frames, 96).T  # (96, N) as in the real files
            if progress is not None:
                progress.step()
        cameras[subject] = subject_cameras(np.random.default_rng([seed, subject_number(subject), 7]))
    write_cameras_h5(root / "cameras.h5", cameras)
    write_marker(root, "h36m", seed, frames=frames, subjects=list(subjects), actions=list(actions), takes=takes)


def write_videopose3d(path: Path, *, seed: int, frames: int, subjects, actions=ACTIONS, takes: int = 1) -> None:
    """`data_3d_h36m.npz` in the VideoPose3D layout: positions_3d[subject][action] (N, 32, 3) float32 metres."""
    positions = {
        s: {name: (p / 1000.0).astype(np.float32) for name, p in subject_sequences(s, seed, frames, actions,
                                                                                    takes).items()}
        for s in subjects
    }
    np.savez_compressed(path, positions_3d=np.array(positions, dtype=object))
