"""Params profiles: every key exists, the merged params parse through every stage's dataclass, -S round trip."""

import pytest
import yaml
from conftest import load_repo_params

from pipeline import profiles
from pipeline.aign import TrainConfig
from pipeline.attributes import ClassifierSettings
from pipeline.config import parse
from pipeline.distributed import Runtime
from pipeline.errors import ParamsError
from pipeline.prepare.celeba import PrepareCeleba
from pipeline.prepare.h36m import PrepareH36m
from pipeline.prepare.vkitti import PrepareVkitti
from pipeline.tasks.faces import Inpainting, SuperResolution
from pipeline.tasks.pose import PoseModel
from pipeline.tasks.sfm import SfmModel

SECTIONS = {"h36m": PrepareH36m, "vkitti": PrepareVkitti, "celeba": PrepareCeleba, "pose.model": PoseModel,
            "pose.train": TrainConfig, "sfm.model": SfmModel, "sfm.train": TrainConfig, "faces.sr": SuperResolution,
            "faces.inpaint": Inpainting, "faces.classifier": ClassifierSettings, "runtime": Runtime}


def _section(params, dotted):
    for part in dotted.split("."):
        params = params[part]
    return params


@pytest.mark.parametrize("name", profiles.available())
def test_profile_applies_to_valid_params(name):
    params = load_repo_params()
    pairs = profiles.overrides(profiles.load_profile(name), params)
    assert pairs
    merged = profiles.apply(params, pairs)
    for dotted, value in pairs:
        assert _section(merged, dotted) == value
    for section, cls in SECTIONS.items():
        parse(cls, _section(merged, section), section)
    assert params == load_repo_params()  # apply copies


def test_paper_profiles_exist_for_every_task():
    assert {"paper-pose", "paper-sfm", "paper-faces"} <= set(profiles.available())
    faces = profiles.apply(load_repo_params(), profiles.overrides(profiles.load_profile("paper-faces"),
                                                                  load_repo_params()))
    assert faces["celeba"]["size"] == 128 and faces["faces"]["sr"]["model"]["blocks"] == 15


def test_set_arguments_round_trip_through_yaml():
    pairs = [("a.b", [1, 2]), ("c", "xy"), ("d", 0.5), ("e", ["S1", "S5"]), ("f", "{path}")]
    args = profiles.set_arguments(pairs)
    assert args[::2] == ["-S"] * 5
    for arg, (dotted, value) in zip(args[1::2], pairs, strict=True):
        key, _, text = arg.partition("=")
        assert key == dotted and yaml.safe_load(text) == value
    with pytest.raises(ParamsError, match="profile key g: value .* has white space"):
        profiles.set_arguments([("g", "pipe:cat {path}")])


def test_unknown_profile_and_unknown_key_are_errors():
    with pytest.raises(ParamsError, match="profile 'nope'.*expected one of"):
        profiles.load_profile("nope")
    with pytest.raises(ParamsError, match="profile key pose.modle: not in params.yaml"):
        profiles.overrides({"pose": {"modle": {"width": 3}}}, load_repo_params())


def test_profile_command_prints_set_arguments_and_names_an_unknown_profile(monkeypatch, capsys):
    from conftest import REPO

    from stages.profile import main

    monkeypatch.setenv("AIGN_PARAMS", str(REPO / "params.yaml"))
    main([])
    assert "real-h36m" in capsys.readouterr().out.split()
    main(["real-h36m"])
    printed = capsys.readouterr().out.split()
    assert printed[0] == "-S" and "h36m.stride=10" in printed
    with pytest.raises(SystemExit) as exit_code:
        main(["no-such-profile"])
    assert exit_code.value.code == 2
    assert "error: profile 'no-such-profile': no " in capsys.readouterr().err
