"""The environment is the locked one: requirements.lock pins every package, and pyproject.toml agrees with it."""

import re
import tomllib
from importlib import metadata

from conftest import REPO

PROJECT = "aign-pipeline"


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _locked() -> dict[str, str]:
    pins = {}
    for number, line in enumerate((REPO / "requirements.lock").read_text().splitlines(), 1):
        if line.strip() and not line.startswith("#"):
            match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==(\S+)", line.strip())
            assert match, f"requirements.lock:{number}: expected 'name==version', found {line!r}"
            pins[_name(match.group(1))] = match.group(2)
    return pins


def test_every_installed_package_is_the_locked_version():
    locked = _locked()
    installed = {_name(d.metadata["Name"]): d.version.split("+")[0] for d in metadata.distributions()}
    installed.pop(_name(PROJECT), None)
    assert {n: v for n, v in installed.items() if locked.get(n) != v} == {}, "run ./aign to reinstall the lock"
    assert set(locked) <= set(installed)


def test_the_lock_agrees_with_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    direct = project["dependencies"] + [d for extra in project["optional-dependencies"].values() for d in extra]
    locked = _locked()
    for requirement in direct:
        name, version = requirement.split("==")
        assert locked.get(_name(name)) == version, f"{requirement}: the lock has {locked.get(_name(name))}"
