"""What every stage shares: reading its params section, one-line user errors, the closing throughput line."""

import functools
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from pipeline.config import parse
from pipeline.errors import ParamsError, UserError


@dataclass
class Experiments:
    """params.yaml experiments: the stage instances dvc.yaml expands, per task."""

    pose: list[str] = field(default_factory=list)
    sfm: list[str] = field(default_factory=list)
    sr: list[str] = field(default_factory=list)
    inpaint: list[str] = field(default_factory=list)


def params_path() -> Path:
    """params.yaml, or the file $AIGN_PARAMS names (tests)."""
    return Path(os.environ.get("AIGN_PARAMS", "params.yaml"))


def load_params(section: str, cls):
    """The dotted `section` of params.yaml (or of $AIGN_PARAMS), validated into dataclass `cls`."""
    path = params_path()
    try:
        params = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise ParamsError(f"{path}: cannot read params ({err})") from None
    node = params
    for part in section.split("."):
        if not isinstance(node, dict) or part not in node:
            raise ParamsError(f"param {section}: missing from {path}")
        node = node[part]
    return parse(cls, node, section)


def stage_main(func):
    """Run a stage's main(argv); a `UserError` becomes one line on stderr and exit status 2."""

    @functools.wraps(func)
    def wrapper(argv=None):
        try:
            func(sys.argv[1:] if argv is None else argv)
        except UserError as err:
            print(f"error: {err}", file=sys.stderr)
            sys.exit(2)

    return wrapper


def report_throughput(stage: str, samples: int, seconds: float) -> None:
    print(f"{stage}: {samples} samples in {seconds:.1f} s ({samples / max(seconds, 1e-9):.0f} samples/s)")
