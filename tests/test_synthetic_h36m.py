"""The synthetic Human3.6M is as varied as the real captures: 15 actions, human joint limits, floor contact, the
published cameras at the real distances, poses that a 24-component basis does not explain exactly."""

import numpy as np
import pytest

from pipeline.datasets.h36m import published_cameras
from pipeline.pose_basis import fit_basis
from pipeline.prepare.h36m import square_crop
from pipeline.skeleton import JOINTS_17, PARENTS_32
from pipeline.synthetic.h36m import subject_sequences
from pipeline.synthetic.h36m_actions import ACTIONS
from pipeline.synthetic.h36m_skeleton import DOFS, INDEX, LOWER, SURFACE, UPPER, clamp_to_limits

HIP, R_KNEE, R_FOOT, L_KNEE, THORAX, HEAD, L_WRIST, R_WRIST = 0, 2, 3, 7, 13, 15, 19, 27


@pytest.fixture(scope="module")
def takes():
    """{action: poses (N, 32, 3) mm} of one subject, two takes of every action joined."""
    sequences = subject_sequences("S8", seed=5, frames=300, actions=list(ACTIONS), takes=2)
    return {a: np.concatenate([sequences[a], sequences[f"{a} 1"]]) for a in ACTIONS}


def test_every_action_of_the_protocol(takes):
    assert sorted(takes) == sorted(["Directions", "Discussion", "Eating", "Greeting", "Phoning", "Photo", "Posing",
                                    "Purchases", "Sitting", "SittingDown", "Smoking", "Waiting", "WalkDog", "Walking",
                                    "WalkTogether"])


def test_bones_keep_their_length_and_the_body_rests_on_the_floor(takes):
    for action, poses in takes.items():
        bones = np.linalg.norm(poses[:, 1:] - poses[:, list(PARENTS_32[1:])], axis=-1)  # (N, 31)
        assert np.ptp(bones, axis=0).max() < 1e-6, action
        lowest = (poses[..., 2] - SURFACE).min(axis=1)  # height of the lowest body surface, mm
        seated = poses[:, HIP, 2] > lowest + 1  # held up by a chair
        assert np.allclose(lowest[~seated], 0, atol=1e-6) and (lowest >= -1e-6).all(), action


def test_the_actions_reach_the_hard_poses(takes):
    height = {a: p[:, HEAD, 2] for a, p in takes.items()}
    torso = {a: p[:, THORAX] - p[:, HIP] for a, p in takes.items()}
    tilt = {a: np.degrees(np.arccos(t[:, 2] / np.linalg.norm(t, axis=1))) for a, t in torso.items()}
    assert (tilt["SittingDown"] > 70).mean() > 0.05  # lying on the floor
    assert (height["SittingDown"] < 1000).mean() > 0.3  # on the floor
    assert (takes["Sitting"][:, HIP, 2] < 650).mean() > 0.5  # on a chair
    assert (takes["Photo"][:, HIP, 2] < 600).mean() > 0.1  # crouching
    assert (tilt["Purchases"] > 40).mean() > 0.05  # bending down
    wrists_up = np.maximum(takes["Posing"][:, L_WRIST, 2], takes["Posing"][:, R_WRIST, 2])
    assert (wrists_up > takes["Posing"][:, HEAD, 2]).mean() > 0.05  # an arm over the head
    speed = np.linalg.norm(np.diff(takes["Walking"][:300, HIP, :2], axis=0), axis=1) * 50 / 1000  # m/s
    assert 0.8 < np.median(speed) < 1.6


def test_knees_bend_only_backwards_and_at_most_150_degrees(takes):
    for action, poses in takes.items():
        across = poses[:, 6] - poses[:, 1]  # right hip -> left hip, about the knees' hinge axis
        for hip, knee, foot in ((1, R_KNEE, R_FOOT), (6, L_KNEE, 8)):
            thigh, shin = poses[:, knee] - poses[:, hip], poses[:, foot] - poses[:, knee]
            cosine = (thigh * shin).sum(1) / np.linalg.norm(thigh, axis=1) / np.linalg.norm(shin, axis=1)
            bend = np.degrees(np.arccos(np.clip(cosine, -1, 1)))
            assert bend.max() <= 150 + 1e-6, action
            hinge = (np.cross(thigh, shin) * across).sum(1)  # < 0: the shin folds behind the thigh
            assert (hinge[bend > 20] < 0).all(), action


def test_joint_limits_are_enforced():
    wild = np.random.default_rng(0).normal(0, 500, size=(100, len(DOFS)))
    clamped = clamp_to_limits(wild)
    assert (clamped >= LOWER).all() and (clamped <= UPPER).all()
    raised = clamped[:, INDEX["l_hip_raise"]]
    assert (raised <= 130 - 0.8 * np.maximum(clamped[:, INDEX["l_hip_az"]], 0) + 1e-9).all()


def test_published_cameras_see_the_subjects_at_the_real_distances(takes):
    cameras = published_cameras(["S8"])
    poses = np.concatenate(list(takes.values()))[::7][:, JOINTS_17]
    depths, sides = [], []
    for cam in cameras.values():
        depths.append(cam.to_camera(poses[:, 0])[:, 2])
        sides.append(square_crop(cam.project(poses), 1.2)[:, 2])
    depths, sides = np.concatenate(depths), np.concatenate(sides)
    assert 4800 < np.median(depths) < 5800 and depths.min() > 2000  # the real median: 5.3 m
    assert 300 < np.median(sides) < 450 and sides.min() > 80 and sides.max() < 1100  # real: 110-817, median 377


def test_a_24_component_basis_leaves_real_detail_unexplained(takes):
    poses = np.concatenate(list(takes.values()))[::3][:, JOINTS_17]
    explained = fit_basis(poses, 24).explained_variance_ratio.sum()
    assert 0.99 < explained < 0.999  # the real memory subjects: 0.9951
