import fnmatch
import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml
from conftest import REPO

from pipeline.errors import ParamsError
from pipeline.gate import GateClaim, GateParams, GateRule, broken_claims, read_metric, regressions
from stages.common import load_params

RULES = [
    GateRule("metrics/eval/pose-*.json:average.*mpjpe", "lower", 3.0),
    GateRule("metrics/cls.json:accuracy", "higher", 0.01),
]
AIGN = "metrics/eval/pose-aign.json"
RECON = "metrics/eval/pose-recon_only.json"
CLAIM = GateClaim("aign beats recon_only", f"{AIGN}:average.mpjpe", f"{RECON}:average.mpjpe", "lower", 20.0)


def _diff(old, new, file=AIGN, key="average.mpjpe"):
    return {file: {key: {"old": old, "new": new, "diff": None if new is None else new - old}}}


def test_equal_metrics_pass():
    assert regressions(_diff(97.2, 97.2), RULES) == []


def test_within_tolerance_passes_and_improvement_passes():
    assert regressions(_diff(97.2, 100.0), RULES) == []
    assert regressions(_diff(97.2, 60.0), RULES) == []


def test_regression_beyond_tolerance_fails():
    (line,) = regressions(_diff(97.2, 101.0), RULES)
    assert f"{AIGN}:average.mpjpe went from 97.2 to 101.0" in line


def test_higher_is_better_metrics():
    assert regressions(_diff(0.9, 0.85, "metrics/cls.json", "accuracy"), RULES)
    assert not regressions(_diff(0.9, 0.895, "metrics/cls.json", "accuracy"), RULES)


def test_ungated_and_new_metrics_pass():
    assert regressions(_diff(1.0, 500.0, key="train_samples_per_s"), RULES) == []
    assert regressions({AIGN: {"average.mpjpe": {"old": None, "new": 99.0}}}, RULES) == []


def test_a_disappeared_metric_fails_unless_its_file_left_the_pipeline():
    gone = _diff(97.2, None, key="per_action.Walking.mpjpe")  # not even gated by a rule
    assert regressions(gone, RULES) == [f"{AIGN}:per_action.Walking.mpjpe disappeared (was 97.2)"]
    assert regressions(gone, RULES, declared={AIGN}) == [f"{AIGN}:per_action.Walking.mpjpe disappeared (was 97.2)"]
    assert regressions(gone, RULES, declared={RECON}) == []  # its experiment was removed from params


def test_claims_hold_by_their_margin_and_fail_below_it_or_when_missing():
    values = {f"{AIGN}:average.mpjpe": 100.0, f"{RECON}:average.mpjpe": 130.0}
    assert broken_claims([CLAIM], values.get) == []
    values[f"{AIGN}:average.mpjpe"] = 115.0
    (line,) = broken_claims([CLAIM], values.get)
    assert line.startswith("claim 'aign beats recon_only': ") and "a lead of 15" in line and "at least 20.0" in line
    del values[f"{RECON}:average.mpjpe"]
    assert broken_claims([CLAIM], values.get) == [f"claim 'aign beats recon_only': {RECON}:average.mpjpe is missing"]
    higher = GateClaim("biased", "a.json:rate", "b.json:rate", "higher", 0.1)
    assert broken_claims([higher], {"a.json:rate": 0.5, "b.json:rate": 0.35}.get) == []
    assert broken_claims([higher], {"a.json:rate": 0.5, "b.json:rate": 0.45}.get)


def test_read_metric_walks_dotted_keys(tmp_path):
    (tmp_path / "m.json").write_text(json.dumps({"average": {"mpjpe": 97.2, "name": "x"}, "flag": True}))
    assert read_metric(tmp_path, "m.json:average.mpjpe") == 97.2
    for missing in ("m.json:average.p_mpjpe", "m.json:average.name", "m.json:flag", "other.json:average.mpjpe"):
        assert read_metric(tmp_path, missing) is None


def test_malformed_gate_params_are_named(tmp_path, monkeypatch):
    params = {"gate": {"rules": [], "claims": [{"claim": "c", "metric": "no-colon", "baseline": "b.json:x",
                                                "direction": "lower", "margin": 1.0}]}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    monkeypatch.setenv("AIGN_PARAMS", str(tmp_path / "params.yaml"))
    with pytest.raises(ParamsError, match=r"param gate.claims\[0\].metric: found 'no-colon', expected"):
        load_params("gate", GateParams)


@pytest.fixture
def project_gate(monkeypatch) -> GateParams:
    """The gate of the project's params.yaml, loaded as the gate stage loads it."""
    monkeypatch.setenv("AIGN_PARAMS", str(REPO / "params.yaml"))
    return load_params("gate", GateParams)


def _first_rule(rules: list[GateRule], reference: str) -> GateRule | None:
    file, key = reference.split(":")
    return next((r for r in rules if fnmatch.fnmatch(file, r.pattern.split(":")[0])
                 and fnmatch.fnmatch(key, r.pattern.split(":")[1])), None)


def test_every_claimed_metric_has_a_tolerance_smaller_than_the_claimed_effect(project_gate):
    """A tolerance as wide as the effect beside it lets the effect vanish with CI green."""
    assert project_gate.claims
    for claim in project_gate.claims:
        for side in (claim.metric, claim.baseline):
            rule = _first_rule(project_gate.rules, side)
            assert rule is not None, f"{side}: no gate rule"
            assert rule.tolerance < claim.margin, (claim.claim, side, rule.tolerance, claim.margin)


def test_project_gate_fails_when_a_claimed_metric_takes_its_baseline_value(project_gate):
    """Constructed metrics that satisfy every claim by twice its margin; then each claimed metric replaced by its
    baseline's value, as if the method had no effect: the claim breaks and the tolerance catches the change."""
    for claim in project_gate.claims:
        sign = -1 if claim.direction == "lower" else 1
        base = {claim.baseline: 100.0, claim.metric: 100.0 + sign * 2 * claim.margin}
        assert broken_claims([claim], base.get) == []
        replaced = dict(base, **{claim.metric: base[claim.baseline]})
        assert broken_claims([claim], replaced.get)
        file, key = claim.metric.split(":")
        assert regressions({file: {key: {"old": base[claim.metric], "new": replaced[claim.metric]}}},
                           project_gate.rules), claim.claim


def _run(repo, env, *args):
    return subprocess.run([sys.executable, "-m", *args], cwd=repo, env=env, capture_output=True, text=True)


@pytest.mark.slow
def test_gate_stage_against_a_committed_revision(tmp_path):
    """`python -m stages.gate --rev HEAD` in a real git + DVC repository: passes on an unchanged reproduction, fails
    when pose-aign's metrics are replaced by pose-recon_only's and when a metrics file is deleted."""
    repo = tmp_path
    files = {AIGN: {"average": {"mpjpe": 110.0, "p_mpjpe": 80.0}}, RECON: {"average": {"mpjpe": 160.0,
                                                                                       "p_mpjpe": 120.0}}}
    for file, content in files.items():
        (repo / file).parent.mkdir(parents=True, exist_ok=True)
        (repo / file).write_text(json.dumps(content))
    (repo / "dvc.yaml").write_text(yaml.safe_dump({
        "stages": {f"evaluate_{v}": {"cmd": f"echo {v}", "outs": [{f"metrics/eval/pose-{v}.json": {"cache": False}}]}
                   for v in ("aign", "recon_only")},
        "metrics": ["metrics/eval"]}))
    (repo / "params.yaml").write_text(yaml.safe_dump({"gate": {
        "rules": [{"pattern": "metrics/eval/pose-*.json:average.*mpjpe", "direction": "lower", "tolerance": 5.0}],
        "claims": [{"claim": CLAIM.claim, "metric": CLAIM.metric, "baseline": CLAIM.baseline, "direction": "lower",
                    "margin": CLAIM.margin}]}}))
    env = dict(os.environ, DVC_NO_ANALYTICS="1", GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t", PYTHONPATH=str(REPO))
    for command in (["git", "init", "-q"], [sys.executable, "-m", "dvc", "init", "-q"], ["git", "add", "-A"],
                    ["git", "commit", "-qm", "base"]):
        subprocess.run(command, cwd=repo, check=True, env=env, capture_output=True)

    passed = _run(repo, env, "stages.gate", "--rev", "HEAD")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Gate passed" in passed.stdout and "(1 claims)" in passed.stdout

    shutil.copy(repo / RECON, repo / AIGN)
    replaced = _run(repo, env, "stages.gate", "--rev", "HEAD")
    assert replaced.returncode == 1, replaced.stdout + replaced.stderr
    table = [line for line in replaced.stdout.splitlines() if line.startswith("|") and "average.mpjpe" in line]
    assert table and "110" in table[0] and "160" in table[0]  # the dvc metrics diff table
    assert f"{AIGN}:average.mpjpe went from 110.0 to 160.0" in replaced.stdout
    assert "claim 'aign beats recon_only'" in replaced.stdout

    subprocess.run(["git", "checkout", "--", AIGN], cwd=repo, check=True)
    (repo / RECON).unlink()
    deleted = _run(repo, env, "stages.gate", "--rev", "HEAD")
    assert deleted.returncode == 1, deleted.stdout + deleted.stderr
    assert f"{RECON}:average.mpjpe disappeared (was 160.0)" in deleted.stdout
    assert f"{RECON}:average.mpjpe is missing" in deleted.stdout
