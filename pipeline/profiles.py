"""Named params profiles (profiles/<name>.yaml): partial params.yaml files, one switch for a whole setting.

Every key of a profile must exist in params.yaml (a typo is an error, not a new param). `stages/profile.py` prints
a profile as `dvc exp run -S` arguments (`./aign profile <name>`).
"""

import json
from pathlib import Path

import yaml

from pipeline.errors import ParamsError

FOLDER = Path(__file__).resolve().parents[1] / "profiles"


def available() -> list[str]:
    return sorted(path.stem for path in FOLDER.glob("*.yaml"))


def load_profile(name: str) -> dict:
    path = FOLDER / f"{name}.yaml"
    if not path.is_file():
        raise ParamsError(f"profile {name!r}: no {path}, expected one of {', '.join(available())}")
    try:
        profile = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise ParamsError(f"{path}: not valid YAML ({err})") from None
    if not isinstance(profile, dict):
        raise ParamsError(f"{path}: expected a mapping of params.yaml sections")
    return profile


def overrides(profile: dict, params: dict, prefix: str = "") -> list[tuple[str, object]]:
    """(dotted key, value) of every leaf of `profile`, each checked to exist in `params`."""
    out = []
    for key, value in profile.items():
        dotted = f"{prefix}{key}"
        if not isinstance(params, dict) or key not in params:
            raise ParamsError(f"profile key {dotted}: not in params.yaml, expected an existing param")
        if isinstance(value, dict) and value:
            out += overrides(value, params[key], f"{dotted}.")
        else:
            out.append((dotted, value))
    return out


def apply(params: dict, pairs: list[tuple[str, object]]) -> dict:
    """A copy of `params` with the dotted keys set (what `dvc exp run -S` does to params.yaml)."""
    merged = json.loads(json.dumps(params))
    for dotted, value in pairs:
        *parents, leaf = dotted.split(".")
        node = merged
        for part in parents:
            node = node[part]
        node[leaf] = value
    return merged


def set_arguments(pairs: list[tuple[str, object]]) -> list[str]:
    """`-S key=value` for each pair (JSON is YAML flow: `dvc exp run` reads the value back as written)."""
    args = []
    for dotted, value in pairs:
        text = json.dumps(value, separators=(",", ":"))
        if any(c.isspace() for c in text):
            raise ParamsError(f"profile key {dotted}: value {text} has white space, which `$(./aign profile ...)` "
                              "would split; set it with -S by hand")
        args += ["-S", f"{dotted}={text}"]
    return args
