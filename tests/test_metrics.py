import numpy as np
import pytest

from pipeline.geometry import rotation_matrix
from pipeline.metrics import PoseErrorTable, mpjpe, n_mpjpe, p_mpjpe, per_sample_errors, procrustes_align


def test_mpjpe_hand_computed():
    gt = np.zeros((1, 2, 3))
    pred = np.array([[[3.0, 4.0, 0.0], [0.0, 0.0, 2.0]]])  # distances 5 and 2
    assert mpjpe(pred, gt) == pytest.approx(3.5)


def test_p_mpjpe_of_a_rotated_scaled_shifted_copy_is_zero():
    rng = np.random.default_rng(0)
    gt = rng.normal(size=(4, 17, 3)) * 300
    R = rotation_matrix("x", 0.7) @ rotation_matrix("z", -1.2)
    pred = 1.7 * gt @ R.T + np.array([10.0, -50.0, 3000.0])
    assert mpjpe(pred, gt) > 100
    assert p_mpjpe(pred, gt) == pytest.approx(0.0, abs=1e-6)
    np.testing.assert_allclose(procrustes_align(pred, gt), gt, atol=1e-6)


def test_p_mpjpe_does_not_reflect():
    gt = np.array([[[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]]]) * 100
    mirrored = gt * np.array([1, 1, -1])
    assert p_mpjpe(mirrored, gt) > 10  # a mirror image is not a rotation


def test_p_mpjpe_hand_computed():
    # Two joints; the best similarity maps any two points onto any two points: zero error.
    gt = np.array([[[0.0, 0, 0], [100, 0, 0]]])
    pred = np.array([[[5.0, 5, 5], [5, 55, 5]]])
    assert p_mpjpe(pred, gt) == pytest.approx(0.0, abs=1e-9)
    assert mpjpe(pred, gt) == pytest.approx((np.sqrt(75) + np.linalg.norm([95, -55, -5])) / 2)


def test_n_mpjpe_removes_scale_only():
    gt = np.array([[[0.0, 0, 0], [100, 0, 0], [0, 200, 0]]])
    assert n_mpjpe(0.5 * gt, gt) == pytest.approx(0.0)
    rotated = gt @ rotation_matrix("z", np.pi / 2).T
    assert n_mpjpe(rotated, gt) > 50


def test_error_table_per_action_and_streaming():
    gt = np.zeros((3, 2, 3))
    pred = gt.copy()
    pred[:, 1, 0] = [10.0, 20.0, 30.0]  # joint 1 off by 10, 20, 30 mm; the root stays
    table = PoseErrorTable()
    table.update(pred[:2], gt[:2], ["Walking", "Walking"])
    table.update(pred[2:], gt[2:], ["Sitting"])
    result = table.summary()
    assert result["per_action"]["Walking"]["mpjpe"] == pytest.approx((10 + 20) / 4)
    assert result["per_action"]["Sitting"]["mpjpe"] == pytest.approx(30 / 2)
    assert result["overall"]["mpjpe"] == pytest.approx(60 / 6)
    assert result["average"]["mpjpe"] == pytest.approx((7.5 + 15) / 2)
    assert result["samples"] == 3


def test_per_sample_errors_agree_with_the_batch_metrics():
    rng = np.random.default_rng(1)
    gt, pred = rng.normal(size=(2, 5, 17, 3)) * 200
    errors = per_sample_errors(pred, gt)
    rel_pred, rel_gt = pred - pred[:, :1], gt - gt[:, :1]
    assert errors["mpjpe"].mean() == pytest.approx(mpjpe(rel_pred, rel_gt))
    assert errors["p_mpjpe"].mean() == pytest.approx(p_mpjpe(rel_pred, rel_gt))
    assert errors["n_mpjpe"].mean() == pytest.approx(n_mpjpe(rel_pred, rel_gt))
