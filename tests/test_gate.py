import json
import os
import subprocess
import sys

import pytest
import yaml
from conftest import REPO

from pipeline.gate import GateRule, regressions

RULES = [
    GateRule("metrics/pose-*.json:average.*mpjpe", "lower", 3.0),
    GateRule("metrics/cls.json:accuracy", "higher", 0.01),
]


def _diff(old, new, file="metrics/pose-aign.json", key="average.mpjpe"):
    return {file: {key: {"old": old, "new": new, "diff": new - old}}}


def test_equal_metrics_pass():
    assert regressions(_diff(97.2, 97.2), RULES) == []


def test_within_tolerance_passes_and_improvement_passes():
    assert regressions(_diff(97.2, 100.0), RULES) == []
    assert regressions(_diff(97.2, 60.0), RULES) == []


def test_regression_beyond_tolerance_fails():
    (line,) = regressions(_diff(97.2, 101.0), RULES)
    assert "metrics/pose-aign.json:average.mpjpe went from 97.2 to 101.0" in line


def test_higher_is_better_metrics():
    assert regressions(_diff(0.9, 0.85, "metrics/cls.json", "accuracy"), RULES)
    assert not regressions(_diff(0.9, 0.895, "metrics/cls.json", "accuracy"), RULES)


def test_ungated_and_missing_values_are_ignored():
    assert regressions(_diff(1.0, 500.0, key="train_samples_per_s"), RULES) == []
    assert regressions({"metrics/pose-aign.json": {"average.mpjpe": {"old": None, "new": 99.0}}}, RULES) == []


@pytest.fixture
def project_rules(monkeypatch) -> list[GateRule]:
    """The rules of the project's params.yaml, loaded as the gate stage loads them."""
    from pipeline.gate import GateParams
    from stages.common import load_params

    monkeypatch.setenv("AIGN_PARAMS", str(REPO / "params.yaml"))
    return load_params("gate", GateParams).rules


# The same commit, params and shards on two of the sessions' CPUs (README, "Results depend on the CPU").
CROSS_CPU = {
    "metrics/pose-aign.json": {"average.mpjpe": (82.4, 88.7), "average.n_mpjpe": (77.8, 84.1)},
    "metrics/sfm-aign.json": {"depth.a1": (0.595, 0.561), "depth.abs_rel": (0.244, 0.278),
                              "depth.sq_rel": (2.543, 3.837), "depth.rmse": (8.450, 10.347)},
    "metrics/faces/inpaint-smiling.json": {"psnr": (19.38, 14.93), "ssim": (0.463, 0.331)},
    "metrics/pose-recon_only.json": {"average.mpjpe": (93.99, 97.35), "average.n_mpjpe": (86.13, 89.95)},
    "metrics/sfm-supervised.json": {"depth.a1": (0.733, 0.743), "depth.rmse": (6.525, 6.224),
                                    "depth.sq_rel": (1.339, 1.246)},
    "metrics/sfm-recon_only.json": {"depth.a1": (0.564, 0.576), "depth.abs_rel": (0.262, 0.257)},
    "metrics/faces/sr-all.json": {"psnr": (23.81, 24.14)},
    "metrics/faces/inpaint-male.json": {"psnr": (18.09, 17.71)},
}


def test_project_gate_accepts_the_measured_cpu_spread_both_ways(project_rules):
    for first, second in ((0, 1), (1, 0)):
        diff = {file: {key: {"old": pair[first], "new": pair[second]} for key, pair in metrics.items()}
                for file, metrics in CROSS_CPU.items()}
        assert regressions(diff, project_rules) == []


def test_project_gate_still_fails_regressions_beyond_the_cpu_spread(project_rules):
    rules = project_rules
    assert regressions(_diff(0.733, 0.70, "metrics/sfm-supervised.json", "depth.a1"), rules)
    assert regressions(_diff(0.564, 0.53, "metrics/sfm-recon_only.json", "depth.a1"), rules)
    assert regressions(_diff(43.7, 47.5, "metrics/pose-supervised.json", "average.mpjpe"), rules)
    assert regressions(_diff(6.22, 6.9, "metrics/sfm-supervised.json", "depth.rmse"), rules)
    assert regressions(_diff(82.4, 95.0, "metrics/pose-aign.json", "average.mpjpe"), rules)  # beyond the CPU spread
    assert not regressions(_diff(82.4, 95.0, "metrics/pose-aign.json", "per_action.Walking.mpjpe"), rules)


def _git(repo, *args):
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


@pytest.mark.slow
def test_gate_stage_against_a_committed_revision(tmp_path):
    """`python -m stages.gate --rev HEAD` in a real git + DVC repository: passes on equal metrics, fails after."""
    repo = tmp_path
    metrics = repo / "metrics" / "pose-aign.json"
    metrics.parent.mkdir()
    metrics.write_text(json.dumps({"average": {"mpjpe": 97.2, "p_mpjpe": 70.0}}))
    (repo / "dvc.yaml").write_text("metrics:\n  - metrics/pose-aign.json\n")
    (repo / "params.yaml").write_text(yaml.safe_dump({"gate": {"rules": [
        {"pattern": "metrics/pose-*.json:average.*mpjpe", "direction": "lower", "tolerance": 3.0}]}}))
    _git(repo, "init", "-q")
    env = dict(os.environ, DVC_NO_ANALYTICS="1", GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t", PYTHONPATH=str(REPO))
    subprocess.run([sys.executable, "-m", "dvc", "init", "-q"], cwd=repo, check=True, env=env)
    _git(repo, "add", "-A")
    subprocess.run(["git", "commit", "-qm", "base"], cwd=repo, check=True, env=env)

    def gate():
        return subprocess.run([sys.executable, "-m", "stages.gate", "--rev", "HEAD"], cwd=repo, env=env,
                              capture_output=True, text=True)

    passed = gate()
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Gate passed" in passed.stdout

    metrics.write_text(json.dumps({"average": {"mpjpe": 105.0, "p_mpjpe": 70.5}}))
    failed = gate()
    assert failed.returncode == 1
    table = [line for line in failed.stdout.splitlines() if line.startswith("|") and "average.mpjpe" in line]
    assert table and "97.2" in table[0] and "105" in table[0]  # the dvc metrics diff table
    assert "average.mpjpe went from 97.2 to 105.0" in failed.stdout
