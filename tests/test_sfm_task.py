"""The structure-from-motion task in the shared loop: every variant trains a step; networks are well formed."""

import json
import os

import numpy as np
import pytest
import torch
import yaml
from conftest import assert_no_outputs, load_repo_params, run_stage_error

from pipeline.aign import TrainConfig, seed_everything, train
from pipeline.batches import BatchStream
from pipeline.config import parse
from pipeline.models.sfm import DepthNet, rotation_from_axis_angle
from pipeline.shards import split_urls
from pipeline.tasks.sfm import (
    LOG_DEPTH_GRADIENT_GAIN,
    PLUGIN,
    SfmModel,
    SfmTask,
    collate_depths,
    collate_pairs,
    log_depth_gradients,
)
from stages.prepare_vkitti import main as prepare_vkitti
from stages.train_sfm import main as train_sfm


@pytest.fixture(scope="module")
def sfm_shards(vkitti_root, tmp_path_factory):
    work = tmp_path_factory.mktemp("sfm")
    params = load_repo_params()
    params["vkitti"] |= {"root": str(vkitti_root), "size": [48, 16], "variations": ["clone"],
                         "splits": {"inputs": ["0001"], "memory": ["0002"], "test": ["0006"]}}
    (work / "params.yaml").write_text(yaml.safe_dump(params))
    os.environ["AIGN_PARAMS"] = str(work / "params.yaml")
    try:
        prepare_vkitti([str(work / "shards"), str(work / "metrics.json")])
    finally:
        del os.environ["AIGN_PARAMS"]
    return work / "shards"


def test_the_photometric_warmup_trains_recon_only_with_its_own_settings(sfm_shards, monkeypatch, tmp_path, capsys):
    """train_sfm warmup: a recon_only run with sfm.warmup.train over sfm.train, which a variant continues (--init)."""
    params = yaml.safe_load((sfm_shards.parent / "params.yaml").read_text())
    params["sfm"]["model"] |= {"width": 8, "disc_width": 8}
    params["sfm"]["train"] |= {"steps": 2, "batch_size": 2, "checkpoint_every": 2, "log_every": 1, "shuffle": 10}
    params["sfm"]["warmup"] = {"train": {"steps": 1, "lr_g": 0.002}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    monkeypatch.setenv("AIGN_PARAMS", str(tmp_path / "params.yaml"))
    monkeypatch.chdir(tmp_path)
    shards = str(sfm_shards)

    train_sfm(["warmup", shards, "warm", "warm.json", "warm-live"])
    info = json.loads((tmp_path / "warm" / "model.json").read_text())
    summary = json.loads((tmp_path / "warm.json").read_text())
    assert info["variant"] == "recon_only" and summary["experiment"] == "sfm-warmup" and summary["steps"] == 1
    assert "loss_adv" not in summary["final"]
    _, cfg = PLUGIN.settings(lambda section, cls: parse(cls, params["sfm"][section.split(".")[1]], section), "warmup")
    assert (cfg.steps, cfg.lr_g, cfg.batch_size) == (1, 0.002, 2)  # the overrides over sfm.train

    train_sfm(["aign", shards, "aign", "aign.json", "aign-live", "--init", "warm"])
    assert json.loads((tmp_path / "aign" / "model.json").read_text())["init"]["model"] == "warm"
    assert json.loads((tmp_path / "aign.json").read_text())["steps"] == 2

    params["sfm"]["warmup"] = {"train": {"stepz": 3}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    line = run_stage_error(train_sfm, ["warmup", shards, "x", "x.json", "x-live"], capsys)
    assert "param sfm.warmup.train.stepz: unknown key" in line
    assert_no_outputs("x", "x.json", "x-live")


@pytest.mark.parametrize("variant, losses", [
    ("supervised", {"loss_sup"}), ("recon_only", {"loss_rec"}), ("aign", {"loss_rec", "loss_adv", "loss_d", "grad_d"})])
def test_each_variant_trains(sfm_shards, tmp_path, variant, losses):
    seed_everything(0)
    task = SfmTask(SfmModel(width=8, disc_width=8))
    generator, discriminator = task.build()
    inputs = BatchStream(split_urls(sfm_shards, "inputs"), 2, collate_pairs, shuffle=10)
    memory = BatchStream(split_urls(sfm_shards, "memory"), 2, collate_depths, shuffle=10, seed=1)
    before = [p.detach().clone() for p in generator.parameters()]
    summary = train(task, generator, discriminator, inputs, memory, TrainConfig(steps=2, batch_size=2), variant,
                    checkpoint=tmp_path / "ck.pt", fingerprint="f")
    assert set(summary["final"]) == losses | {"loss_g", "grad_g"}
    assert all(np.isfinite(v) for v in summary["final"].values())
    assert any(not torch.equal(a, b) for a, b in zip(before, generator.parameters(), strict=True))


def test_depth_is_positive_and_bounded():
    disparity = DepthNet(width=8, min_depth=0.5, max_depth=100.0)(torch.rand(2, 3, 20, 52) * 10)
    depth = 1 / disparity
    assert disparity.shape == (2, 1, 20, 52)
    assert (depth >= 0.5 - 1e-5).all() and (depth <= 100.0 + 1e-3).all()


def test_rotation_from_axis_angle():
    R = rotation_from_axis_angle(torch.tensor([[0.0, np.pi / 2, 0.0], [0.0, 0.0, 0.0]]))
    np.testing.assert_allclose(R[0].numpy(), [[0, 0, 1], [0, 1, 0], [-1, 0, 0]], atol=1e-6)
    np.testing.assert_allclose(R[1].numpy(), np.eye(3), atol=1e-6)


def test_log_depth_gradients_see_shape_not_scale():
    columns = torch.arange(6, dtype=torch.float32)
    depth = (5.0 * torch.exp(0.1 * columns)).expand(1, 1, 4, 6)  # log depth rises 0.1 a column, flat down the rows
    gradients = log_depth_gradients(depth)
    assert gradients.shape == (1, 2, 4, 6)
    np.testing.assert_allclose(gradients[0, 0, :, :-1].numpy(), 0.1 * LOG_DEPTH_GRADIENT_GAIN, rtol=1e-5)
    assert (gradients[0, 0, :, -1] == 0).all() and (gradients[0, 1] == 0).all()
    torch.testing.assert_close(log_depth_gradients(depth * 37.0), gradients)  # monocular depth has no scale


@pytest.mark.parametrize("disc_input, channels", [("log_depth_gradient", 2), ("log_depth", 1), ("disparity", 1)])
def test_discriminator_judges_memory_and_predictions_in_its_representation(disc_input, channels):
    task = SfmTask(SfmModel(width=8, disc_width=8, disc_input=disc_input))
    generator, discriminator = task.build()
    memory = {"depth": torch.rand(2, 1, 16, 48) * 60 * (torch.rand(2, 1, 16, 48) > 0.1)}  # 0: no depth (sky)
    pred = task.predict(generator, {"image1": torch.rand(2, 3, 16, 48), "image2": torch.rand(2, 3, 16, 48)})
    real, fake = task.real(memory), task.fake(pred, {})
    assert real.shape == fake.shape == (2, channels, 16, 48)
    assert torch.isfinite(real).all() and discriminator(real).shape == discriminator(fake).shape == (2,)
