"""Synthetic Human3.6M in the 3d-pose-baseline layout (and the VideoPose3D npz for tests of that reader).

Subjects with their own proportions perform the 15 actions (`h36m_actions`) with a 32-joint skeleton under human
joint limits (`h36m_skeleton`), moving through the capture area in front of each subject's four published Human3.6M
cameras (`cameras.h5` holds that calibration, lens distortion included), so distances and crop sizes are the real ones.
"""

from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from pipeline.datasets.h36m import published_cameras, subject_number
from pipeline.synthetic import write_marker
from pipeline.synthetic.h36m_actions import ACTIONS, take_motion
from pipeline.synthetic.h36m_skeleton import pose_on_floor, subject_offsets


@dataclass
class SynthH36m:
    """params.yaml synthetic.h36m: the stand-in's size."""

    seed: int
    frames: int = 300  # per take, at 50 fps
    subjects: list[str] = field(default_factory=lambda: ["S1", "S5", "S6", "S7", "S8", "S9", "S11"])
    actions: list[str] = field(default_factory=lambda: list(ACTIONS))
    takes: int = 2

    def units(self) -> int:
        return len(self.subjects) * len(self.actions) * self.takes


def write_cameras_h5(path: Path, subjects) -> None:
    """cameras.h5 as in 3d-pose-baseline, holding the published calibration of each subject's four cameras:
    R stored transposed, vectors as column arrays, Name as char codes."""
    with h5py.File(path, "w") as hf:
        for (subject, index), cam in published_cameras(subjects).items():
            g = hf.create_group(f"subject{subject_number(subject)}/camera{index}")
            g["R"] = cam.R.T
            g["T"] = cam.T.reshape(3, 1)
            g["f"] = cam.f.reshape(2, 1)
            g["c"] = cam.c.reshape(2, 1)
            g["k"] = cam.k.reshape(3, 1)
            g["p"] = cam.p.reshape(2, 1)
            g["Name"] = np.frombuffer(cam.name.encode(), np.uint8)


def subject_sequences(subject: str, seed: int, frames: int, actions=ACTIONS, takes: int = 2):
    """{sequence name: poses (N, 32, 3) mm} for one subject, deterministic from (seed, subject)."""
    rng = np.random.default_rng([seed, subject_number(subject)])
    offsets = subject_offsets(rng)
    sequences = {}
    for action in actions:
        if action not in ACTIONS:
            raise ValueError(f"unknown synthetic action {action!r}: expected one of {', '.join(ACTIONS)}")
        for take in range(takes):
            name = action if take == 0 else f"{action} {take}"
            dofs, xy, yaw = take_motion(action, frames, rng)
            sequences[name] = pose_on_floor(offsets, dofs, xy, yaw)
    return sequences


def write_h36m(root: Path, *, seed: int, frames: int, subjects, actions=ACTIONS, takes: int = 2,
               progress=None) -> None:
    """Write `root` in the 3d-pose-baseline layout: S*/MyPoses/3D_positions/<Action>[ N].h5 and cameras.h5."""
    root = Path(root)
    for subject in subjects:
        folder = root / subject / "MyPoses" / "3D_positions"
        folder.mkdir(parents=True, exist_ok=True)
        for name, poses in subject_sequences(subject, seed, frames, actions, takes).items():
            with h5py.File(folder / f"{name}.h5", "w") as hf:
                hf["3D_positions"] = poses.reshape(frames, 96).T  # (96, N) as in the real files
            if progress is not None:
                progress.step()
    write_cameras_h5(root / "cameras.h5", subjects)
    write_marker(root, "h36m", seed, frames=frames, subjects=list(subjects), actions=list(actions), takes=takes)


def write_videopose3d(path: Path, *, seed: int, frames: int, subjects, actions=ACTIONS, takes: int = 1) -> None:
    """`data_3d_h36m.npz` in the VideoPose3D layout: positions_3d[subject][action] (N, 32, 3) float32 metres."""
    positions = {
        s: {name: (p / 1000.0).astype(np.float32) for name, p in subject_sequences(s, seed, frames, actions,
                                                                                    takes).items()}
        for s in subjects
    }
    np.savez_compressed(path, positions_3d=np.array(positions, dtype=object))
