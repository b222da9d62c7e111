"""The shared training loop on a tiny pose dataset: every variant steps, resume equals uninterrupted, NaN guard."""

import numpy as np
import pytest
import torch

from pipeline.aign import TrainConfig, TrainingDiverged, seed_everything, train
from pipeline.batches import BatchStream
from pipeline.pose_basis import BasisAccumulator
from pipeline.shards import iterate_split, read_manifest, split_urls
from pipeline.tasks.pose import PoseModel, PoseTask, collate_inputs, collate_memory
from stages.prepare_h36m import main as prepare_h36m

SMALL = PoseModel(width=8, input_size=16, render_size=16, disc_hidden=16)


@pytest.fixture(scope="module")
def pose_shards(h36m_root, tmp_path_factory):
    import os

    import yaml
    from conftest import load_repo_params

    work = tmp_path_factory.mktemp("pose")
    params = load_repo_params()
    params["h36m"] |= {"root": str(h36m_root), "stride": 4,
                       "splits": {"inputs": ["S1"], "memory": ["S7"], "test": ["S9"]}}
    (work / "params.yaml").write_text(yaml.safe_dump(params))
    old = os.environ.get("AIGN_PARAMS")
    os.environ["AIGN_PARAMS"] = str(work / "params.yaml")
    try:
        prepare_h36m([str(work / "shards"), str(work / "metrics.json")])
    finally:
        os.environ.pop("AIGN_PARAMS") if old is None else os.environ.__setitem__("AIGN_PARAMS", old)
    return work / "shards"


def _setup(shards, seed=0):
    accumulator = BasisAccumulator()
    accumulator.update(np.stack([s["pose3d.npy"] for s in iterate_split(shards, "memory")]))
    seed_everything(seed)
    task = PoseTask(accumulator.fit(6), SMALL, read_manifest(shards)["heatmap_size"], 1.5)
    generator, discriminator = task.build()
    inputs = BatchStream(split_urls(shards, "inputs"), 8, collate_inputs, shuffle=20, seed=seed)
    memory = BatchStream(split_urls(shards, "memory"), 8, collate_memory, shuffle=20, seed=seed + 1)
    return task, generator, discriminator, inputs, memory


@pytest.mark.parametrize("variant, losses", [
    ("supervised", {"loss_sup"}),
    ("recon_only", {"loss_rec"}),
    ("aign", {"loss_rec", "loss_adv", "loss_d"}),
])
def test_each_variant_trains(pose_shards, tmp_path, variant, losses):
    task, generator, discriminator, inputs, memory = _setup(pose_shards)
    before = [p.detach().clone() for p in generator.parameters()]
    cfg = TrainConfig(steps=3, batch_size=8, log_every=1, checkpoint_every=2)
    summary = train(task, generator, discriminator, inputs, memory, cfg, variant,
                    checkpoint=tmp_path / "ck.pt", fingerprint="x", log_dir=tmp_path / "live")
    assert losses | {"loss_g"} == set(summary["final"])
    assert all(np.isfinite(v) for v in summary["final"].values())
    assert summary["train_samples_per_s"] > 0
    assert any(not torch.equal(a, b) for a, b in zip(before, generator.parameters(), strict=True))
    assert (tmp_path / "live" / "plots" / "metrics" / "train" / "loss_g.tsv").is_file()


class _Interrupt(RuntimeError):
    pass


def test_resume_equals_uninterrupted(pose_shards, tmp_path):
    cfg = TrainConfig(steps=6, batch_size=8, checkpoint_every=2, gan_loss="wgan-gp", d_steps=2)
    task, generator, discriminator, inputs, memory = _setup(pose_shards)
    train(task, generator, discriminator, inputs, memory, cfg, "aign", checkpoint=tmp_path / "a.pt", fingerprint="f")
    uninterrupted = {k: v.clone() for k, v in generator.state_dict().items()}

    task, generator, discriminator, inputs, memory = _setup(pose_shards)
    calls = {"n": 0}
    real_predict = task.predict

    def crashing_predict(g, batch):  # dies during step 5, after the checkpoint of step 4
        calls["n"] += 1
        if calls["n"] > 4 * 2:  # two predictions a step: one for D, one for G
            raise _Interrupt("power cut")
        return real_predict(g, batch)

    task.predict = crashing_predict
    with pytest.raises(_Interrupt):
        train(task, generator, discriminator, inputs, memory, cfg, "aign", checkpoint=tmp_path / "b.pt",
              fingerprint="f")
    assert torch.load(tmp_path / "b.pt", weights_only=False)["step"] == 4

    task, generator, discriminator, inputs, memory = _setup(pose_shards, seed=0)
    train(task, generator, discriminator, inputs, memory, cfg, "aign", checkpoint=tmp_path / "b.pt", fingerprint="f")
    for key, value in generator.state_dict().items():
        assert torch.equal(value, uninterrupted[key]), key


def test_a_changed_fingerprint_starts_over(pose_shards, tmp_path, capsys):
    cfg = TrainConfig(steps=2, batch_size=8, checkpoint_every=1)
    task, generator, discriminator, inputs, memory = _setup(pose_shards)
    train(task, generator, discriminator, inputs, memory, cfg, "recon_only", checkpoint=tmp_path / "c.pt",
          fingerprint="old")
    task, generator, discriminator, inputs, memory = _setup(pose_shards)
    train(task, generator, discriminator, inputs, memory, cfg, "recon_only", checkpoint=tmp_path / "c.pt",
          fingerprint="new")
    assert "resuming" not in capsys.readouterr().out


def test_nan_guard(pose_shards, tmp_path):
    task, generator, discriminator, inputs, memory = _setup(pose_shards)
    task.reconstruction_loss = lambda pose, batch: pose.sum() * float("nan")
    cfg = TrainConfig(steps=3, batch_size=8)
    with pytest.raises(TrainingDiverged, match=r"loss_g became nan at step 1: training diverged"):
        train(task, generator, discriminator, inputs, memory, cfg, "recon_only", checkpoint=tmp_path / "n.pt",
              fingerprint="f")


def test_same_seed_same_weights(pose_shards, tmp_path):
    weights = []
    for run in range(2):
        task, generator, discriminator, inputs, memory = _setup(pose_shards)
        train(task, generator, discriminator, inputs, memory, TrainConfig(steps=3, batch_size=8), "aign",
              checkpoint=tmp_path / f"s{run}.pt", fingerprint="f")
        weights.append(torch.cat([p.flatten() for p in generator.parameters()]))
    assert torch.equal(weights[0], weights[1])


def test_batch_stream_resumes_mid_epoch(pose_shards):
    stream = BatchStream(split_urls(pose_shards, "inputs"), 8, collate_inputs, shuffle=20, seed=3)
    first = [next(stream)["keys"] for _ in range(25)]  # crosses an epoch boundary (80 samples = 10 batches)
    resumed = BatchStream(split_urls(pose_shards, "inputs"), 8, collate_inputs, shuffle=20, seed=3)
    replay = BatchStream(split_urls(pose_shards, "inputs"), 8, collate_inputs, shuffle=20, seed=3)
    for _ in range(13):
        next(replay)
    resumed.restore(replay.state())
    assert [next(resumed)["keys"] for _ in range(12)] == first[13:]
    assert first[0] != first[10]  # each epoch has its own order
