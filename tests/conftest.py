"""Tiny datasets written by the synthetic writers into temporary folders, shared by the tests of a session."""

import os
from pathlib import Path

import pytest
import yaml

from pipeline.synthetic.celeba import write_celeba
from pipeline.synthetic.h36m import write_h36m
from pipeline.synthetic.vkitti import write_vkitti

REPO = Path(__file__).resolve().parents[1]
TINY_VKITTI_SIZE = (156, 47)


@pytest.fixture(scope="session")
def h36m_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("h36m")
    write_h36m(root, seed=1, frames=20, subjects=["S1", "S5", "S6", "S7", "S8", "S9", "S11"],
               actions=["Directions", "Walking"], takes=2)
    return root


@pytest.fixture(scope="session")
def vkitti_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("vkitti")
    write_vkitti(root, seed=1, worlds=["0001", "0002", "0006"], variations=["clone", "fog"], frames=6,
                 size=TINY_VKITTI_SIZE)
    return root


@pytest.fixture(scope="session")
def vkitti2_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("vkitti2")
    write_vkitti(root, seed=1, worlds=["Scene01"], variations=["clone"], frames=4, size=TINY_VKITTI_SIZE,
                 layout="vkitti2")
    return root


@pytest.fixture(scope="session")
def celeba_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("celeba")
    write_celeba(root, seed=1, count=80)
    return root


def load_repo_params() -> dict:
    return yaml.safe_load((REPO / "params.yaml").read_text())


@pytest.fixture
def stage_dir(tmp_path, monkeypatch):
    """Run a stage in a temporary folder: returns a function writing params.yaml there from overrides."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AIGN_PARAMS", raising=False)

    def write_params(**sections) -> dict:
        params = load_repo_params()
        for name, values in sections.items():
            params[name] = {**params.get(name, {}), **values}
        (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
        return params

    return write_params


def run_stage_error(main, argv, capsys) -> str:
    """Run a stage expected to fail on user input; return its error: one line, the last on stderr, no traceback."""
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: "), err
    assert sum(line.startswith("error: ") for line in err) == 1 and "Traceback" not in "\n".join(err)
    return err[-1]


def assert_no_outputs(*paths) -> None:
    for path in paths:
        assert not os.path.exists(path), f"partial output left behind: {path}"
        siblings = list(Path(path).parent.glob(f".{Path(path).name}.*")) if Path(path).parent.exists() else []
        assert not siblings, f"temporary output left behind: {siblings}"
