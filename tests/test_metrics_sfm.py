import numpy as np
import pytest

from pipeline.geometry import rigid, rotation_matrix
from pipeline.metrics import ate, depth_errors, rotation_error_deg, translation_direction_error_deg, umeyama


def test_depth_errors_hand_computed():
    gt = np.array([[2.0, 4.0], [0.0, 100.0]])  # 0 and beyond 80 m are invalid
    pred = np.array([[1.0, 5.0], [7.0, 7.0]])
    e = depth_errors(pred, gt, max_depth=80, median_scaling=False)
    assert e["abs_rel"] == pytest.approx((1 / 2 + 1 / 4) / 2)
    assert e["sq_rel"] == pytest.approx((1 / 2 + 1 / 4) / 2)
    assert e["rmse"] == pytest.approx(1.0)
    assert e["rmse_log"] == pytest.approx(np.sqrt((np.log(0.5) ** 2 + np.log(1.25) ** 2) / 2))
    assert (e["a1"], e["a2"], e["a3"]) == (0.0, 0.5, 0.5)  # ratios 2 and 1.25; thresholds 1.25, 1.5625, 1.953


def test_median_scaling_removes_the_unknown_scale():
    gt = np.random.default_rng(0).uniform(1, 50, (20, 30))
    e = depth_errors(0.1 * gt, gt)
    assert e["abs_rel"] == pytest.approx(0.0, abs=1e-12) and e["a1"] == 1.0
    assert depth_errors(0.1 * gt, gt, median_scaling=False)["abs_rel"] == pytest.approx(0.9)


def test_depth_errors_need_valid_pixels():
    with pytest.raises(ValueError, match="no valid"):
        depth_errors(np.ones((2, 2)), np.zeros((2, 2)))


def _trajectory(n=20):
    rng = np.random.default_rng(1)
    poses = []
    for i in range(n):
        poses.append(rigid(rotation_matrix("y", 0.05 * i), [np.sin(0.2 * i), 0.1 * rng.normal(), i * 0.8]))
    return np.stack(poses)


def test_ate_is_zero_after_a_similarity_transform_with_sim3():
    gt = _trajectory()
    S = rigid(rotation_matrix("x", 0.4) @ rotation_matrix("z", 1.1), [5.0, -2.0, 3.0])
    pred = np.stack([S @ p for p in gt])
    pred[:, :3, 3] *= 0.37  # and an unknown scale
    assert ate(pred, gt, "sim3")["rmse"] == pytest.approx(0.0, abs=1e-9)
    assert ate(pred, gt, "se3")["rmse"] > 1.0  # a rigid alignment cannot undo the scale


def test_ate_scale_alignment_hand_computed():
    gt = np.stack([rigid(np.eye(3), [0, 0, z]) for z in (0.0, 1.0, 2.0)])
    pred = np.stack([rigid(np.eye(3), [5, 5, z]) for z in (5.0, 6.0, 8.0)])
    # From the origin: p = 0, 1, 3 and g = 0, 1, 2 along z; s = (1 + 6) / (1 + 9) = 0.7 -> errors 0, 0.3, 0.1.
    e = ate(pred, gt, "scale")
    assert e["rmse"] == pytest.approx(np.sqrt((0.09 + 0.01) / 3))
    assert e["mean"] == pytest.approx(0.4 / 3) and e["max"] == pytest.approx(0.3)
    with pytest.raises(ValueError, match="expected se3, sim3 or scale"):
        ate(pred, gt, "affine")


def test_umeyama_recovers_a_similarity():
    source = np.random.default_rng(2).normal(size=(10, 3))
    R = rotation_matrix("y", 0.7) @ rotation_matrix("x", -0.2)
    s, R_found, t = umeyama(source, 3.0 * source @ R.T + [1.0, 2.0, 3.0], with_scale=True)
    assert s == pytest.approx(3.0)
    np.testing.assert_allclose(R_found, R, atol=1e-9)
    np.testing.assert_allclose(t, [1.0, 2.0, 3.0], atol=1e-9)


def test_rotation_and_translation_direction_errors():
    R = rotation_matrix("z", np.radians([0.0, 30.0]))
    np.testing.assert_allclose(rotation_error_deg(R, np.stack([np.eye(3)] * 2)), [0.0, 30.0], atol=1e-9)
    np.testing.assert_allclose(translation_direction_error_deg(np.array([[1.0, 0, 0], [0, 2.0, 0]]),
                                                               np.array([[3.0, 0, 0], [1.0, 1.0, 0]])), [0.0, 45.0])


def test_sfm_table_perfect_predictions_score_perfectly():
    from pipeline.metrics import SfmErrorTable

    gt = _trajectory(7)
    w2c = np.stack([np.linalg.inv(p) for p in gt])
    motions = np.stack([w2c[i + 1] @ gt[i] for i in range(6)])  # camera i -> camera i+1
    depth = np.random.default_rng(3).uniform(2, 60, (6, 4, 5))
    table = SfmErrorTable()
    meta = [{"world": "0018", "variation": "clone", "frame1": i} for i in range(6)]
    in_view = depth < 50
    table.update(depth * 3.0, depth, motions, motions, meta[:3], in_view)  # depth off by a scale only
    table.update(depth[3:] * 3.0, depth[3:], motions[3:], motions[3:], meta[3:], in_view[3:])
    result = table.summary()
    assert result["depth"]["abs_rel"] == pytest.approx(0.0, abs=1e-9) and result["depth"]["a1"] == 1.0
    assert all(region["abs_rel"] == pytest.approx(0.0, abs=1e-9) for region in result["depth_by_region"].values())
    assert all(region["log_bias"] == pytest.approx(0.0, abs=1e-9) for region in result["depth_by_region"].values())
    assert result["layout"] == {"log_slope": pytest.approx(1.0), "scale_drift": pytest.approx(0.0, abs=1e-9)}
    assert result["motion"]["rotation_error_deg"] == pytest.approx(0.0, abs=1e-4)
    assert result["motion"]["ate_snippets"] == 3  # 6 consecutive pairs -> snippets of 4 pairs starting at 0, 1, 2
    assert result["motion"]["ate_rmse_m"] == pytest.approx(0.0, abs=1e-6)


def test_depth_regions_split_the_error_by_distance_and_by_view():
    from pipeline.metrics import DepthRegions

    g = np.array([5.0, 15.0, 30.0, 60.0, 70.0])
    p = g * np.array([1.0, 1.0, 1.0, 1.5, 1.1])  # only far pixels are wrong
    in_view = np.array([True, True, True, False, True])
    regions = DepthRegions(max_depth=80.0)
    regions.update(p, g, in_view)
    result = regions.summary()
    assert result["0-10m"] == {"abs_rel": 0.0, "a1": 1.0, "log_bias": 0.0, "pixel_share": 0.2}
    assert result["40-80m"]["abs_rel"] == pytest.approx(0.3) and result["40-80m"]["a1"] == 0.5
    assert result["40-80m"]["log_bias"] == pytest.approx((np.log(1.5) + np.log(1.1)) / 2, abs=1e-4)
    assert result["leaves_view"] == {"abs_rel": 0.5, "a1": 0.0, "log_bias": pytest.approx(np.log(1.5), abs=1e-4),
                                     "pixel_share": 0.2}
    assert result["in_view"]["abs_rel"] == pytest.approx(0.025)
    assert "40-80m" not in DepthRegions(max_depth=30.0).bins and (20.0, 40.0) in DepthRegions(max_depth=30.0).bins


def test_log_depth_slope_measures_how_a_prediction_compresses_the_depth_range():
    from pipeline.metrics import log_depth_slope

    g = np.random.default_rng(4).uniform(2.0, 80.0, 500)
    assert log_depth_slope(3.0 * g, g) == pytest.approx(1.0)  # a global scale is no distortion
    assert log_depth_slope(5.0 * g**0.7, g) == pytest.approx(0.7)  # near too far, far too near
    noise = np.exp(np.random.default_rng(5).normal(0.0, 0.3, g.shape))  # noise in the prediction: no bias
    assert log_depth_slope(g * noise, g) == pytest.approx(1.0, abs=0.05)
    assert log_depth_slope(g[:3], np.full(3, 10.0)) is None  # a single true depth: no slope to fit


def test_sfm_table_reports_the_scale_drift_of_a_compressed_prediction():
    from pipeline.metrics import SfmErrorTable

    depth = np.random.default_rng(6).uniform(2, 60, (2, 4, 5))
    motions = np.stack([np.eye(4)] * 2)
    meta = [{"world": "0018", "variation": "clone", "frame1": i} for i in range(2)]
    table = SfmErrorTable()
    table.update(depth**0.75, depth, motions, motions, meta, depth < 50)
    result = table.summary()
    assert result["layout"]["log_slope"] == pytest.approx(0.75, abs=1e-4)
    assert result["layout"]["scale_drift"] == pytest.approx(0.25, abs=1e-4)
    near, far = result["depth_by_region"]["0-10m"]["log_bias"], result["depth_by_region"]["40-80m"]["log_bias"]
    assert near > 0 > far  # after median scaling, near pixels too far and far pixels too near
