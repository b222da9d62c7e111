"""What every stage shares: reading its params section, one-line user errors, the closing throughput line."""

import argparse
import functools
import os
import sys
from pathlib import Path

import yaml

from pipeline.config import parse
from pipeline.errors import ParamsError, UserError


def params_path() -> Path:
    """params.yaml, or the file $AIGN_PARAMS names (tests)."""
    return Path(os.environ.get("AIGN_PARAMS", "params.yaml"))


def _section(section: str):
    """The raw dotted `section` of params.yaml (or of $AIGN_PARAMS)."""
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
    return node


def load_params(section: str, cls):
    """The dotted `section` of params.yaml (or of $AIGN_PARAMS), validated into dataclass `cls`."""
    return parse(cls, _section(section), section)


def load_experiments() -> dict[str, list[str]]:
    """params.yaml experiments: per task (the name of its plug-in), the stage instances dvc.yaml expands."""
    experiments = _section("experiments")
    if not isinstance(experiments, dict):
        raise ParamsError(f"param experiments: found {experiments!r}, expected a mapping of task to a list of names")
    for task, names in experiments.items():
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ParamsError(f"param experiments.{task}: found {names!r}, expected a list of names")
    return experiments


def parse_paths(argv: list[str], doc: str, *names: str) -> argparse.Namespace:
    """The arguments of a stage that takes only paths, in order (`doc`: its usage)."""
    parser = argparse.ArgumentParser(description=doc)
    for name in names:
        parser.add_argument(name, type=Path)
    return parser.parse_args(argv)


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
