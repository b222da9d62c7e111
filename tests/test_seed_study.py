import pytest

from pipeline.seed_study import compare, pairs, table


def _pose(mpjpe, p_mpjpe):
    return {"average": {"mpjpe": mpjpe, "p_mpjpe": p_mpjpe}}


def test_pairs_follow_the_experiments_params_lists():
    memory_sets = {"all": {}, "young": {"Young": 1}, "old": {"Young": -1}, "smiling": {"Smiling": 1},
                   "old_men": {"Young": -1, "Male": 1}}
    assert pairs({"pose": ["supervised", "recon_only", "aign"], "sfm": ["aign"],
                  "sr": ["all", "old", "old_men", "young"], "inpaint": ["smiling"]},
                 memory_sets) == [("pose", "aign", "recon_only"), ("sr", "young", "old")]


def test_paired_differences_mean_spread_and_wins():
    results = {0: {"pose-aign": _pose(100.0, 70.0), "pose-recon_only": _pose(150.0, 90.0)},
               1: {"pose-aign": _pose(120.0, 95.0), "pose-recon_only": _pose(140.0, 90.0)},
               2: {"pose-aign": _pose(110.0, 80.0), "pose-recon_only": _pose(140.0, 85.0)}}
    out = compare("pose", "aign", "recon_only", results)
    mpjpe = out["mpjpe"]
    assert mpjpe["per_seed"] == {"0": -50.0, "1": -20.0, "2": -30.0}
    assert mpjpe["mean"] == pytest.approx(-100 / 3, abs=1e-3)
    assert mpjpe["std"] == pytest.approx(15.2753, abs=1e-3)  # sample standard deviation of -50, -20, -30
    assert mpjpe["wins"] == 3 and mpjpe["seeds"] == 3
    assert mpjpe["aign"]["mean"] == 110.0 and mpjpe["recon_only"]["mean"] == pytest.approx(143.3333, abs=1e-3)
    assert out["p_mpjpe"]["wins"] == 2  # seed 1: aign is worse


def test_face_comparisons_read_the_memory_attribute_on_both_runs():
    def faces(rate_young, psnr):
        return {"psnr": psnr, "attribute_rate": {"output": {"young": rate_young, "old": 1 - rate_young}}}

    results = {0: {"sr-young": faces(0.8, 24.0), "sr-old": faces(0.5, 24.5)},
               1: {"sr-young": faces(0.7, 24.1), "sr-old": faces(0.6, 24.2)}}
    out = compare("sr", "young", "old", results)
    assert out["rate"]["per_seed"] == {"0": 0.3, "1": 0.1} and out["rate"]["wins"] == 2
    assert out["psnr"]["wins"] == 0 and out["psnr"]["better"] == "higher"
    markdown = table({"comparisons": {"sr": {"young - old": out}}})
    assert "| sr | young - old | rate (higher is better) | 0.75 ± 0.071 | 0.55 ± 0.071 | +0.3, +0.1 |" in markdown
    assert "| 2 of 2 seeds |" in markdown
