"""The pose task: predictions relative to the viewing ray, a reconstruction loss that stays finite and informative for
any prediction, discriminator inputs in the viewing-ray frame."""

import numpy as np
import pytest
import torch

from pipeline.datasets.h36m import Sequence, published_cameras
from pipeline.pose_basis import canonical_rotation, fit_basis
from pipeline.prepare.h36m import PrepareH36m, sequence_samples
from pipeline.render.camera import ray_rotation, undistort
from pipeline.render.pose import solve_translation
from pipeline.skeleton import JOINTS_17
from pipeline.synthetic.h36m import subject_sequences
from pipeline.tasks.pose import PoseModel, PosePrediction, PoseTask, collate_inputs, collate_memory

MODEL = PoseModel(hidden=32, blocks=1, render_size=16, disc_hidden=16)


@pytest.fixture(scope="module")
def data():
    """Eight input samples of one synthetic take seen by the published cameras, and a basis from its poses."""
    seq = subject_sequences("S9", seed=4, frames=40, actions=["Photo"], takes=1)["Photo"]
    cfg = PrepareH36m(root="", layout="3d-pose-baseline", splits=None, stride=5, heatmap_size=32)
    samples = list(sequence_samples(Sequence("S9", "Photo", seq), published_cameras(["S9"]), cfg, with_2d=True))
    basis = fit_basis(np.stack([s["pose3d.npy"] for s in samples]).astype(np.float64), 6)
    return collate_inputs(samples[::4]), basis


def _task(basis) -> PoseTask:
    return PoseTask(basis, MODEL, heatmap_size=32, heatmap_sigma=1.5)


def _placed(pose, batch) -> PosePrediction:
    """A prediction of `pose` (B, J, 3) placed the way `predict` places it."""
    rays = undistort(batch["keypoints"], batch["camera"])
    return PosePrediction(pose, pose, solve_translation(pose, rays))


def test_the_true_pose_reconstructs_its_own_input(data):
    batch, basis = data
    task = _task(basis)
    truth = batch["pose3d"] - batch["pose3d"][:, :1]
    prediction = _placed(truth, batch)
    np.testing.assert_allclose(prediction.translation.numpy(), batch["pose3d"][:, 0].numpy(), rtol=1e-4)
    wrong = _placed(truth * torch.tensor([1.0, 1.0, -1.0]), batch)  # the depth-flipped pose
    assert task.reconstruction_loss(prediction, batch) < 0.2 * task.reconstruction_loss(wrong, batch)


def test_reconstruction_is_finite_with_finite_gradients_for_any_prediction(data):
    batch, basis = data
    task = _task(basis)
    g = torch.Generator().manual_seed(0)
    n = len(batch["keys"])
    q, _ = torch.linalg.qr(torch.randn(n, 3, 3, generator=g))
    poses = [
        torch.randn(n, 17, 3, generator=g) * 400 @ q,  # randomly rotated
        torch.randn(n, 17, 3, generator=g) * 10_000,  # 10 m coordinates
        torch.zeros(n, 17, 3),  # a point
        torch.randn(n, 17, 3, generator=g) * torch.tensor([1.0, 1.0, 0.0]) * 300,  # flat
    ]
    for pose in poses:
        pose = pose.requires_grad_()
        for translation in (None, torch.tensor([0.0, 0.0, -2000.0]), torch.tensor([0.0, 0.0, 0.0])):
            prediction = _placed(pose, batch)
            if translation is not None:  # behind the camera, or in its centre
                prediction = prediction._replace(translation=translation.expand(n, 3))
            loss = task.reconstruction_loss(prediction, batch)
            (grad,) = torch.autograd.grad(loss, pose)
            assert torch.isfinite(loss) and torch.isfinite(grad).all()


def test_a_joint_far_outside_the_crop_is_still_pulled_back(data):
    batch, basis = data
    task = _task(basis)
    truth = (batch["pose3d"] - batch["pose3d"][:, :1])[:1]
    one = {k: v[:1] for k, v in batch.items()}
    pose = truth.clone()
    pose[0, 13] += torch.tensor([4000.0, 0.0, 0.0])  # the left wrist 4 m to the side: far outside the crop
    pose.requires_grad_()
    prediction = PosePrediction(pose, pose, batch["pose3d"][:1, 0])
    (grad,) = torch.autograd.grad(task.reconstruction_loss(prediction, one), pose)
    assert grad[0, 13, 0] > 0  # descending the loss moves the wrist back towards the person
    heatmaps_only = PoseTask(basis, PoseModel(hidden=32, blocks=1, render_size=16, reprojection=0.0), 32, 1.5)
    (grad,) = torch.autograd.grad(heatmaps_only.reconstruction_loss(prediction, one), pose)
    assert grad[0, 13].abs().max() < 1e-12  # what the heatmap comparison alone would do: nothing


def test_prediction_turns_with_the_viewing_ray(data):
    batch, basis = data
    task = _task(basis)
    generator, _ = task.build()  # starts at the identity rotation and (about) the mean shape
    with torch.no_grad():
        prediction = task.predict(generator, batch)
    mean = torch.as_tensor(basis.mean, dtype=torch.float32)
    np.testing.assert_allclose(prediction.ray_frame.numpy(), mean.expand_as(prediction.ray_frame).numpy(), atol=5.0)
    turn = ray_rotation(undistort(batch["keypoints"][:, :1], batch["camera"])[:, 0])
    np.testing.assert_allclose(prediction.pose.numpy(), (prediction.ray_frame @ turn.transpose(1, 2)).numpy(),
                               atol=1e-3)
    assert not np.allclose(prediction.pose.numpy(), prediction.ray_frame.numpy(), atol=20.0)  # off-centre people


def test_memory_poses_are_judged_in_their_viewing_ray_frame(data):
    _, basis = data
    task = _task(basis)
    shape = torch.as_tensor(basis.mean, dtype=torch.float32)[None]  # (1, J, 3) a pose facing along its ray
    rays = torch.tensor([[0.0, 0.0], [0.35, -0.1]])
    distance = torch.tensor([4000.0, 6000.0])
    root = torch.cat([rays, torch.ones(2, 1)], 1) / torch.cat([rays, torch.ones(2, 1)], 1).norm(dim=1, keepdim=True)
    camera_frame = shape @ ray_rotation(rays).transpose(1, 2) + (root * distance[:, None])[:, None]
    real = task.real(collate_memory([{"pose3d.npy": p.numpy()} for p in camera_frame]))
    np.testing.assert_allclose(real.numpy(), (shape - shape[:, :1]).expand(2, -1, -1).numpy() / 1000, atol=1e-5)
    assert JOINTS_17[0] == 0  # the root the frames are built around is the hip


def test_memory_in_basis_keeps_what_the_generator_can_produce_and_drops_the_rest(data):
    batch, basis = data
    task = _task(basis)
    truth = batch["pose3d"] - batch["pose3d"][:, :1]
    k = torch.as_tensor(basis.components[0], dtype=torch.float32)
    # A pose the generator can produce: the mean plus components, turned into the camera frame.
    turn = canonical_rotation(truth)
    reachable = (torch.as_tensor(basis.mean, dtype=torch.float32) + 0.7 * k) @ turn
    np.testing.assert_allclose(task.in_basis(reachable).numpy(), reachable.numpy(), atol=1e-2)
    detail = torch.zeros_like(truth)
    detail[:, 10, 0] = 30.0  # a head 3 cm to the side, which six components of this take cannot express
    assert (task.in_basis(truth + detail) - (truth + detail)).norm(dim=-1).max() > 5.0
    memory = {"pose3d": batch["pose3d"]}
    assert not torch.allclose(task.real(memory), _task_without_basis(basis).real(memory))


def _task_without_basis(basis) -> PoseTask:
    return PoseTask(basis, PoseModel(hidden=32, blocks=1, render_size=16, memory_in_basis=False), 32, 1.5)
