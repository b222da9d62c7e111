"""The CI metric gate: metrics that worsened beyond their tolerance or disappeared since a base revision, and claims
(one metric better than another by a margin) that no longer hold."""

import fnmatch
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pipeline.errors import ParamsError


def _split(reference: str, where: str) -> tuple[str, str]:
    if reference.count(":") != 1 or not all(reference.split(":")):
        raise ParamsError(f"param {where}: found {reference!r}, expected '<file>:<dotted key>'")
    file, key = reference.split(":")
    return file, key


@dataclass
class GateRule:
    """A metric pattern `<file glob>:<key glob>` (keys dotted, e.g. `average.p_mpjpe`) and how it may move."""

    pattern: str
    direction: Literal["lower", "higher"]  # which way is better
    tolerance: float  # allowed worsening, in the metric's units

    def check(self, where: str) -> None:
        _split(self.pattern, f"{where}.pattern")
        if self.tolerance < 0:
            raise ParamsError(f"param {where}.tolerance: found {self.tolerance}, expected >= 0")


@dataclass
class GateClaim:
    """`metric` is better than `baseline` (both `<file>:<dotted key>`) by at least `margin`, on the new metrics."""

    claim: str  # what the project claims, in words
    metric: str
    baseline: str
    direction: Literal["lower", "higher"]  # which way is better
    margin: float

    def check(self, where: str) -> None:
        _split(self.metric, f"{where}.metric")
        _split(self.baseline, f"{where}.baseline")
        if self.margin < 0:
            raise ParamsError(f"param {where}.margin: found {self.margin}, expected >= 0")


@dataclass
class GateParams:
    """params.yaml gate."""

    rules: list[GateRule]
    claims: list[GateClaim] = field(default_factory=list)


def _numeric(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def regressions(diff: dict[str, dict[str, dict]], rules: list[GateRule], declared: set[str] | None = None) -> list[str]:
    """Lines describing every gated metric that worsened beyond its tolerance, and every metric that disappeared.

    `diff` is `dvc metrics diff --json`: {file: {key: {"old": x, "new": y, ...}}}. A numeric metric with no new value
    fails when its file is still an output of the pipeline (`declared`; None: every file is); one without an old
    value is new and passes.
    """
    found = []
    for file, metrics in sorted(diff.items()):
        for key, change in sorted(metrics.items()):
            old, new = change.get("old"), change.get("new")
            if _numeric(old) and new is None:
                if declared is None or file in declared:
                    found.append(f"{file}:{key} disappeared (was {old})")
                continue
            if not (_numeric(old) and _numeric(new)):
                continue
            for rule in rules:
                pattern_file, pattern_key = rule.pattern.split(":", 1)
                if not (fnmatch.fnmatch(file, pattern_file) and fnmatch.fnmatch(key, pattern_key)):
                    continue
                worse = new - old if rule.direction == "lower" else old - new
                if worse > rule.tolerance:
                    found.append(f"{file}:{key} went from {old} to {new} ({rule.direction} is better, "
                                 f"tolerance {rule.tolerance})")
                break  # the first matching rule decides
    return found


def read_metric(root: Path, reference: str):
    """The value `<file>:<dotted key>` names in the JSON file under `root`, or None when either is missing."""
    file, key = reference.split(":")
    path = root / file
    if not path.is_file():
        return None
    node = json.loads(path.read_text())
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node if _numeric(node) else None


def broken_claims(claims: list[GateClaim], value) -> list[str]:
    """Lines describing every claim that does not hold; `value(reference)` reads a metric (None: missing)."""
    found = []
    for claim in claims:
        metric, baseline = value(claim.metric), value(claim.baseline)
        if metric is None or baseline is None:
            missing = claim.metric if metric is None else claim.baseline
            found.append(f"claim '{claim.claim}': {missing} is missing")
            continue
        lead = baseline - metric if claim.direction == "lower" else metric - baseline
        if lead < claim.margin:
            found.append(f"claim '{claim.claim}': {claim.metric} = {metric} against {claim.baseline} = {baseline}, "
                         f"a lead of {lead:.4g} ({claim.direction} is better), expected at least {claim.margin}")
    return found
