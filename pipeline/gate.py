"""The CI metric gate: which metrics moved the wrong way by more than their tolerance between two revisions."""

import fnmatch
from dataclasses import dataclass
from typing import Literal

from pipeline.errors import ParamsError


@dataclass
class GateRule:
    """A metric pattern `<file glob>:<key glob>` (keys dotted, e.g. `average.p_mpjpe`) and how it may move."""

    pattern: str
    direction: Literal["lower", "higher"]  # which way is better
    tolerance: float  # allowed worsening, in the metric's units

    def check(self, where: str) -> None:
        if ":" not in self.pattern:
            raise ParamsError(f"param {where}.pattern: found {self.pattern!r}, expected '<file glob>:<key glob>'")
        if self.tolerance < 0:
            raise ParamsError(f"param {where}.tolerance: found {self.tolerance}, expected >= 0")


@dataclass
class GateParams:
    """params.yaml gate."""

    rules: list[GateRule]


def regressions(diff: dict[str, dict[str, dict]], rules: list[GateRule]) -> list[str]:
    """Lines describing every gated metric that worsened beyond its tolerance.

    `diff` is `dvc metrics diff --json`: {file: {key: {"old": x, "new": y, ...}}}. A metric without an old or a
    new value (added, removed, not numeric) is not a regression.
    """
    found = []
    for file, metrics in sorted(diff.items()):
        for key, change in sorted(metrics.items()):
            old, new = change.get("old"), change.get("new")
            if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (old, new)):
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
