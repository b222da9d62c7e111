import numpy as np
import pytest
import torch

from pipeline.geometry import rotation_matrix
from pipeline.pose_basis import BasisAccumulator, ShapeBasis, canonical_rotation, fit_basis, to_canonical
from pipeline.skeleton import JOINTS_17
from pipeline.synthetic.h36m import subject_sequences


def _poses():
    seqs = subject_sequences("S7", seed=0, frames=60, actions=["Walking", "Sitting", "Greeting"], takes=1)
    return np.concatenate([p[:, JOINTS_17] for p in seqs.values()])


def test_canonical_frame_removes_global_rotation_and_translation():
    poses = _poses()[:10]
    moved = poses @ (rotation_matrix("y", 0.8) @ rotation_matrix("x", -0.3)).T + np.array([100.0, -20, 4000])
    np.testing.assert_allclose(to_canonical(moved), to_canonical(poses), atol=1e-8)
    R = canonical_rotation(torch.from_numpy(poses - poses[:, :1])).numpy()
    np.testing.assert_allclose(R @ np.swapaxes(R, 1, 2), np.broadcast_to(np.eye(3), R.shape), atol=1e-12)
    canonical = to_canonical(poses)
    assert (canonical[:, 8, 1] < 0).all()  # the thorax is above (y up is negative) the hip


def test_pca_reconstructs_and_streams(tmp_path):
    poses = _poses()
    basis = fit_basis(poses, 51)
    assert basis.explained_variance_ratio.sum() == pytest.approx(1.0)
    assert np.all(np.diff(basis.explained_variance_ratio) <= 1e-12)
    # With every component, least-squares coefficients reconstruct any canonical pose exactly.
    target = to_canonical(poses[:5]).reshape(5, -1) - basis.mean.reshape(-1)
    B = basis.components.reshape(51, -1)
    coefficients, *_ = np.linalg.lstsq(B.T, target.T, rcond=None)
    np.testing.assert_allclose((coefficients.T @ B).reshape(5, 17, 3), target.reshape(5, 17, 3), atol=1e-3)  # mm
    # Memory poses have unit-variance coefficients on the scaled components.
    small = fit_basis(poses, 8)
    c = np.linalg.lstsq(small.components.reshape(8, -1).T,
                        (to_canonical(poses).reshape(len(poses), -1) - small.mean.reshape(-1)).T, rcond=None)[0]
    np.testing.assert_allclose(c.var(axis=1), 1.0, rtol=1e-6)
    # Streaming in batches gives the same basis; save and load round-trip.
    stream = BasisAccumulator()
    for chunk in np.array_split(poses, 4):
        stream.update(chunk)
    streamed = stream.fit(8)
    np.testing.assert_allclose(streamed.components, small.components, atol=1e-6)
    small.save(tmp_path / "b.npz")
    np.testing.assert_array_equal(ShapeBasis.load(tmp_path / "b.npz").components, small.components)


def test_too_many_components():
    with pytest.raises(ValueError, match="cannot keep 60 components"):
        fit_basis(_poses()[:10], 60)


def test_mirrored_pose_stays_mirrored_in_the_canonical_frame():
    poses = _poses()[:5]
    mirrored = poses * np.array([1.0, 1.0, -1.0])  # a depth reflection in the camera frame
    canonical, canonical_mirror = to_canonical(poses), to_canonical(mirrored)
    assert np.abs(canonical - canonical_mirror).max() > 50  # not a rotation of the original: distinguishable
