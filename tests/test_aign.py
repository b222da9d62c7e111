"""The shared training loop on a tiny pose dataset: every variant steps, resume equals uninterrupted, NaN guard."""

import numpy as np
import pytest
import torch

from pipeline.aign import TrainConfig, TrainingDiverged, WeightAverage, seed_everything, train
from pipeline.batches import BatchStream
from pipeline.errors import ParamsError, UserError
from pipeline.pose_basis import BasisAccumulator
from pipeline.shards import iterate_split, read_manifest, split_urls
from pipeline.tasks.pose import PoseModel, PoseTask, collate_inputs, collate_memory
from stages.prepare_h36m import main as prepare_h36m

SMALL = PoseModel(hidden=32, blocks=1, render_size=16, disc_hidden=16)


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
    ("aign", {"loss_rec", "loss_adv", "loss_d", "grad_d"}),
])
def test_each_variant_trains(pose_shards, tmp_path, variant, losses):
    task, generator, discriminator, inputs, memory = _setup(pose_shards)
    before = [p.detach().clone() for p in generator.parameters()]
    predictions, predict = [], task.predict
    task.predict = lambda g, batch: predictions.append(1) or predict(g, batch)
    cfg = TrainConfig(steps=3, batch_size=8, log_every=1, checkpoint_every=2)
    summary = train(task, generator, discriminator, inputs, memory, cfg, variant,
                    checkpoint=tmp_path / "ck.pt", fingerprint="x", log_dir=tmp_path / "live")
    assert losses | {"loss_g", "grad_g"} == set(summary["final"])
    assert all(np.isfinite(v) for v in summary["final"].values())
    assert summary["train_samples_per_s"] > 0
    assert len(predictions) == cfg.steps  # one forward a step serves D's update and G's loss
    assert any(not torch.equal(a, b) for a, b in zip(before, generator.parameters(), strict=True))
    assert (tmp_path / "live" / "plots" / "metrics" / "train" / "loss_g.tsv").is_file()


class _Interrupt(RuntimeError):
    pass


@pytest.mark.parametrize("ema_decay", [0.0, 0.9])
def test_resume_equals_uninterrupted(pose_shards, tmp_path, ema_decay):
    cfg = TrainConfig(steps=6, batch_size=8, checkpoint_every=2, gan_loss="wgan-gp", d_steps=2, ema_decay=ema_decay)
    task, generator, discriminator, inputs, memory = _setup(pose_shards)
    train(task, generator, discriminator, inputs, memory, cfg, "aign", checkpoint=tmp_path / "a.pt", fingerprint="f")
    uninterrupted = {k: v.clone() for k, v in generator.state_dict().items()}

    task, generator, discriminator, inputs, memory = _setup(pose_shards)
    calls = {"n": 0}
    real_predict = task.predict

    def crashing_predict(g, batch):  # dies during step 5, after the checkpoint of step 4
        calls["n"] += 1
        if calls["n"] > 4:  # one prediction a step
            raise _Interrupt("power cut")
        return real_predict(g, batch)

    task.predict = crashing_predict
    with pytest.raises(_Interrupt):
        train(task, generator, discriminator, inputs, memory, cfg, "aign", checkpoint=tmp_path / "b.pt",
              fingerprint="f")
    assert torch.load(tmp_path / "b.pt", weights_only=True)["step"] == 4

    task, generator, discriminator, inputs, memory = _setup(pose_shards, seed=0)
    train(task, generator, discriminator, inputs, memory, cfg, "aign", checkpoint=tmp_path / "b.pt", fingerprint="f")
    for key, value in generator.state_dict().items():
        assert torch.equal(value, uninterrupted[key]), key


@pytest.mark.parametrize("changed", ["code", "params and data"])
def test_a_changed_fingerprint_starts_over_and_says_why(pose_shards, tmp_path, capsys, changed):
    cfg = TrainConfig(steps=2, batch_size=8, checkpoint_every=1)
    before = {"params and data": "p1", "code": "c1"}
    task, generator, discriminator, inputs, memory = _setup(pose_shards)
    train(task, generator, discriminator, inputs, memory, cfg, "recon_only", checkpoint=tmp_path / "c.pt",
          fingerprint=before)
    capsys.readouterr()
    task, generator, discriminator, inputs, memory = _setup(pose_shards)
    train(task, generator, discriminator, inputs, memory, cfg, "recon_only", checkpoint=tmp_path / "c.pt",
          fingerprint=before | {changed: "2"})
    out, err = capsys.readouterr()
    assert "resuming" not in out
    assert f"{tmp_path / 'c.pt'}: written by a run with other {changed}; training starts over\n" in err


class _Payload:
    """What a checkpoint pulled from a shared remote could carry: an object whose unpickling runs code."""

    def __reduce__(self):
        return (print, ("unpickling ran code",))


def test_a_checkpoint_holding_objects_is_refused_unread(pose_shards, tmp_path, capsys):
    torch.save({"fingerprint": {"settings": "f"}, "step": 1, "payload": _Payload()}, tmp_path / "evil.pt")
    task, generator, discriminator, inputs, memory = _setup(pose_shards)
    with pytest.raises(UserError, match=r"evil.pt: holds more than tensors and plain values, refused unread"):
        train(task, generator, discriminator, inputs, memory, TrainConfig(steps=1, batch_size=8), "recon_only",
              checkpoint=tmp_path / "evil.pt", fingerprint="f")
    assert "unpickling ran code" not in capsys.readouterr().out


def _diverge(pose_shards, tmp_path, variant="recon_only", **changes):
    task, generator, discriminator, inputs, memory = _setup(pose_shards)
    for name, value in changes.items():
        setattr(task, name, value)
    with pytest.raises(TrainingDiverged) as error:
        train(task, generator, discriminator, inputs, memory, TrainConfig(steps=3, batch_size=8), variant,
              checkpoint=tmp_path / "n.pt", fingerprint="f")
    return str(error.value)


def test_nan_guard_names_the_task_code_when_every_module_output_is_finite(pose_shards, tmp_path):
    message = _diverge(pose_shards, tmp_path, reconstruction_loss=lambda pred, batch: pred.pose.sum() * float("nan"))
    assert message.startswith("loss_g became nan at step 1 (every module output is finite: the non-finite value arose "
                              "in the task's code after the models")
    assert "\n" not in message


def test_nan_guard_names_the_module_whose_output_went_non_finite(pose_shards, tmp_path):
    task = _setup(pose_shards)[0]
    real_predict = task.predict

    def poisoned_predict(generator, batch):
        with torch.no_grad():
            generator.blocks[0].layers[0].weight[0, 0] = float("inf")  # a weight that blew up
        return real_predict(generator, batch)

    message = _diverge(pose_shards, tmp_path, predict=poisoned_predict)
    assert "first non-finite value: the output of generator.blocks.0.layers.0 (Linear)" in message


def test_nan_guard_finds_a_gradient_that_went_non_finite_behind_a_finite_loss(pose_shards, tmp_path):
    # sqrt at 0 is finite, its gradient is not: the failure the Human3.6M renderer once had.
    message = _diverge(pose_shards, tmp_path,
                       reconstruction_loss=lambda pred, batch: torch.sqrt((pred.pose - pred.pose.detach()) ** 2).sum())
    assert message.startswith("the gradient of loss_g became")
    assert "the gradient at the output of generator.coefficients (Linear)" in message \
        or "the gradient at the output of generator.rotation (Linear)" in message


def test_nan_guard_covers_the_discriminator(pose_shards, tmp_path):
    message = _diverge(pose_shards, tmp_path, "aign", real=lambda memory: memory["pose3d"] * float("nan"))
    assert message.startswith("loss_d became nan at step 1")


def test_learning_rate_schedule():
    cfg = TrainConfig(steps=110, warmup_steps=10, lr_decay="cosine", lr_final=0.1)
    assert cfg.lr_factor(0) == pytest.approx(0.1)  # warm-up: (step + 1) / 10
    assert cfg.lr_factor(9) == pytest.approx(1.0)
    assert cfg.lr_factor(10) == pytest.approx(1.0)  # decay starts
    assert cfg.lr_factor(109) == pytest.approx(0.1)  # last step at lr_final
    assert cfg.lr_factor(59.5) == pytest.approx(0.55)  # half way: the cosine's midpoint
    linear = TrainConfig(steps=101, lr_decay="linear", lr_final=0.0)
    assert [linear.lr_factor(s) for s in (0, 50, 100)] == pytest.approx([1.0, 0.5, 0.0])
    assert TrainConfig(steps=5).lr_factor(4) == 1.0
    ramp = TrainConfig(w_adv=0.2, adv_warmup_steps=100)
    assert [ramp.adv_weight(s) for s in (0, 50, 100, 400)] == pytest.approx([0.0, 0.1, 0.2, 0.2])


def test_weight_average_follows_the_weights_with_a_lag():
    model = torch.nn.Linear(2, 1)
    with torch.no_grad():
        model.weight.fill_(1.0)
    average = WeightAverage(model, decay=0.9)
    with torch.no_grad():
        model.weight.fill_(3.0)
    average.update(model, step=0)  # the first steps decay by (1 + step) / (10 + step): 0.1 here
    assert torch.allclose(average.state_dict()["weight"], torch.full((1, 2), 0.1 * 1.0 + 0.9 * 3.0))
    average.update(model, step=1000)  # then by `decay`
    assert torch.allclose(average.state_dict()["weight"], torch.full((1, 2), 0.9 * 2.8 + 0.1 * 3.0))


def test_the_trained_generator_is_the_average_when_asked(pose_shards, tmp_path):
    final = {}
    for decay in (0.0, 0.9):
        task, generator, discriminator, inputs, memory = _setup(pose_shards)
        cfg = TrainConfig(steps=4, batch_size=8, ema_decay=decay)
        train(task, generator, discriminator, inputs, memory, cfg, "aign", checkpoint=tmp_path / f"{decay}.pt",
              fingerprint="f")
        final[decay] = generator.state_dict()
        saved = torch.load(tmp_path / f"{decay}.pt", weights_only=True)["average"]
        assert (saved is None) == (decay == 0)
        assert decay == 0 or all(torch.equal(saved[k], v) for k, v in final[decay].items())
    assert any(not torch.equal(final[0.0][k], final[0.9][k]) for k in final[0.0])
    with pytest.raises(ParamsError, match=r"param sr.train.ema_decay: found 1.0, expected a number in \[0, 1\)"):
        TrainConfig(ema_decay=1.0).check("sr.train")


def test_schedule_params_are_checked():
    with pytest.raises(ParamsError, match=r"param pose.train.warmup_steps: found 5, expected fewer than steps"):
        TrainConfig(steps=5, warmup_steps=5).check("pose.train")
    with pytest.raises(ParamsError, match=r"param pose.train.lr_final: found 2.0"):
        TrainConfig(lr_final=2.0).check("pose.train")
    with pytest.raises(ParamsError, match=r"param pose.train.clip_grad_norm: found -1.0"):
        TrainConfig(clip_grad_norm=-1.0).check("pose.train")


def test_training_applies_the_schedule_and_clips_gradients(pose_shards, tmp_path, monkeypatch):
    seen = {"lr": [], "norms": []}
    real_step = torch.optim.Adam.step

    def spy_step(self, *args, **kwargs):
        if len(self.param_groups[0]["params"]) == len(list(generator.parameters())):
            seen["lr"].append(self.param_groups[0]["lr"])
            grads = [p.grad.flatten() for p in self.param_groups[0]["params"] if p.grad is not None]
            seen["norms"].append(torch.cat(grads).norm().item())
        return real_step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "step", spy_step)
    task, generator, discriminator, inputs, memory = _setup(pose_shards)
    cfg = TrainConfig(steps=5, batch_size=8, lr_g=1e-3, warmup_steps=2, lr_decay="linear", lr_final=0.5,
                      clip_grad_norm=1e-4)
    summary = train(task, generator, discriminator, inputs, memory, cfg, "recon_only", checkpoint=tmp_path / "l.pt",
                    fingerprint="f")
    assert seen["lr"] == pytest.approx([5e-4, 1e-3, 1e-3, 7.5e-4, 5e-4])
    assert max(seen["norms"]) <= 1e-4 * (1 + 1e-5) < summary["final"]["grad_g"]  # clipped; the log has the raw norm


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


@pytest.mark.parametrize("variant", ["recon_only", "aign"])
def test_reckless_learning_rates_do_not_make_pose_training_diverge(pose_shards, tmp_path, variant):
    """A learning rate of 1 throws the generator's predictions anywhere (behind the camera, metres wide): the camera
    model, the renderer and the losses stay finite, so training goes on."""
    task, generator, discriminator, inputs, memory = _setup(pose_shards)
    cfg = TrainConfig(steps=12, batch_size=8, lr_g=1.0, lr_d=1.0, w_adv=1.0)
    summary = train(task, generator, discriminator, inputs, memory, cfg, variant, checkpoint=tmp_path / "r.pt",
                    fingerprint="f")
    assert all(np.isfinite(v) for v in summary["final"].values())
    assert all(torch.isfinite(p).all() for p in generator.parameters())
