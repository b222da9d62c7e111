"""Distributed training: a 2-process gloo DDP run of a real training stage on the CPU, and per-rank data shares."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
import yaml
from conftest import REPO, load_repo_params

from pipeline.batches import BatchStream
from pipeline.distributed import Runtime
from pipeline.errors import ParamsError
from pipeline.pose_basis import BasisAccumulator
from pipeline.shards import ShardSet, iterate_split, open_shards, split_urls
from pipeline.tasks.plugin import Task

# Runs a training stage under torchrun with spies: every rank saves its final parameters and lists what it wrote.
SPY = """
import json, os, sys
from pathlib import Path
import torch
import pipeline.aign as aign
import stages.training as training
from stages import train_pose

rank, out = os.environ.get("RANK", "0"), Path(sys.argv[1])
writes = []
real_train, real_save, real_outputs = aign.train, aign._save_checkpoint, training.atomic_outputs

def train(task, generator, discriminator, *args, **kwargs):
    summary = real_train(task, generator, discriminator, *args, **kwargs)
    torch.save({"generator": dict(generator.named_parameters()),
                "discriminator": dict(discriminator.named_parameters())}, out / f"params-rank{rank}.pt")
    return summary

def save_checkpoint(path, state):
    writes.append(str(path))
    real_save(path, state)

def outputs(*paths):
    writes.extend(map(str, paths))
    return real_outputs(*paths)

training.train, aign._save_checkpoint, training.atomic_outputs = train, save_checkpoint, outputs
train_pose.main(sys.argv[2:])
(out / f"writes-rank{rank}.json").write_text(json.dumps(writes))
"""


@pytest.fixture(scope="module")
def pose_work(h36m_root, tmp_path_factory):
    from stages.prepare_h36m import main as prepare_h36m

    work = tmp_path_factory.mktemp("ddp")
    params = load_repo_params()
    params["h36m"] |= {"root": str(h36m_root), "stride": 2,
                       "splits": {"inputs": ["S1", "S5"], "memory": ["S7"], "test": ["S9"]}}
    params["pose"]["model"] = {"hidden": 32, "blocks": 1, "render_size": 16, "disc_hidden": 16}
    params["pose"]["train"] |= {"steps": 4, "batch_size": 8, "checkpoint_every": 2, "log_every": 1, "shuffle": 50,
                                "warmup_steps": 1}
    (work / "one.yaml").write_text(yaml.safe_dump(params))
    params["runtime"]["processes"] = 2
    (work / "params.yaml").write_text(yaml.safe_dump(params))
    env = dict(os.environ, AIGN_PARAMS=str(work / "params.yaml"), PYTHONPATH=str(REPO))
    os.environ["AIGN_PARAMS"] = str(work / "params.yaml")
    try:
        prepare_h36m([str(work / "shards"), str(work / "metrics.json")])
    finally:
        del os.environ["AIGN_PARAMS"]
    accumulator = BasisAccumulator()
    accumulator.update(np.stack([s["pose3d.npy"] for s in iterate_split(work / "shards", "memory")]))
    accumulator.fit(6).save(work / "basis.npz")
    return work, env


def _spy(work, env, out, args, processes):
    out.mkdir()
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={processes}",
                "--no-python"] if processes > 1 else []
    result = subprocess.run([*launcher, sys.executable, "-c", SPY, str(out), *args], cwd=work, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_two_process_ddp_training_stage(pose_work):
    work, env = pose_work
    args = ["aign", "shards", "basis.npz", "model", "train.json", "live"]
    _spy(work, env, work / "spy", args, processes=2)
    out = work / "spy"
    ranks = [torch.load(out / f"params-rank{r}.pt") for r in (0, 1)]
    for net in ("generator", "discriminator"):
        assert ranks[0][net].keys() == ranks[1][net].keys()
        for name, value in ranks[0][net].items():
            assert torch.equal(value, ranks[1][net][name]), f"{net}.{name} differs between the ranks"

    # One process with the same global batch sees the same batches (rank r streams samples r, r + 2, ... of one
    # shuffled sequence) and averages the same gradients: the logged losses of the global batch agree at every step
    # up to floating-point summation order.
    _spy(work, env | {"AIGN_PARAMS": str(work / "one.yaml")}, work / "spy1",
         ["aign", "shards", "basis.npz", "model1", "train1.json", "live1"], processes=1)
    for loss in ("loss_g", "loss_rec", "loss_adv", "loss_d"):
        one, two = (np.loadtxt(work / live / "plots/metrics/train" / f"{loss}.tsv", skiprows=1)[:, 1]
                    for live in ("live1", "live"))
        assert len(one) == len(two) == 4
        np.testing.assert_allclose(two, one, rtol=1e-5, err_msg=loss)

    writes = [json.loads((out / f"writes-rank{r}.json").read_text()) for r in (0, 1)]
    assert writes[1] == []
    assert any(w.endswith("checkpoint.pt") for w in writes[0]) and "model" in writes[0]
    summary = json.loads((work / "train.json").read_text())
    assert summary["processes"] == 2 and summary["steps"] == 4
    assert (work / "model" / "generator.pt").is_file()
    assert (work / "live" / "plots" / "metrics" / "train" / "loss_g.tsv").is_file()
    assert not (work / "data" / "checkpoints" / "pose-aign").exists()  # scratch removed after success


def test_stage_relaunches_itself_and_resumes_under_another_world_size(pose_work):
    """A 1-process run interrupted after its first checkpoint resumes under 2 processes (the params switch)."""
    work, env = pose_work
    args = ["recon_only", "shards", "basis.npz", "model-r", "train-r.json", "live-r"]
    interrupted = ("import sys, pipeline.aign as a\n"
                   "real = a._save_checkpoint\n"
                   "def save(path, state):\n"
                   "    real(path, state)\n"
                   "    sys.exit(3)\n"
                   "a._save_checkpoint = save\n"
                   "from stages.train_pose import main\n"
                   f"main({args!r})\n")
    first = subprocess.run([sys.executable, "-c", interrupted], cwd=work, capture_output=True, text=True,
                           env=env | {"AIGN_PARAMS": str(work / "one.yaml")}, timeout=300)
    assert first.returncode == 3, first.stderr[-3000:]
    assert (work / "data" / "checkpoints" / "pose-recon_only" / "checkpoint.pt").is_file()

    second = subprocess.run([sys.executable, "-m", "stages.train_pose", *args], cwd=work, capture_output=True,
                            text=True, env=env, timeout=300)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert "relaunching under torchrun with 2 processes" in second.stdout
    assert "resuming from step 2" in second.stdout
    assert json.loads((work / "train-r.json").read_text())["processes"] == 2


def _write(folder, count, max_samples):
    shards = ShardSet(folder, max_samples=max_samples)
    for i in range(count):
        shards.write("inputs", {"__key__": f"s{i:03d}", "value.npy": np.array([i])})
    shards.close()


@pytest.mark.parametrize("count, max_samples", [(10, 100), (12, 3)])  # one shard (sample split), four (shard split)
def test_every_rank_reads_a_disjoint_share(tmp_path, monkeypatch, count, max_samples):
    _write(tmp_path / "s", count, max_samples)
    urls = split_urls(tmp_path / "s", "inputs")
    shares = []
    for rank in (0, 1):
        monkeypatch.setenv("RANK", str(rank))
        monkeypatch.setenv("WORLD_SIZE", "2")
        shares.append({s["__key__"] for s in open_shards(urls, shuffle=5, seed=3, by_node=True)})
        # evaluation reads are not split
        assert len(list(open_shards(urls))) == count
    assert shares[0] and shares[1] and not shares[0] & shares[1]
    assert shares[0] | shares[1] == {f"s{i:03d}" for i in range(count)}


def test_ranks_together_stream_the_single_process_batches(tmp_path, monkeypatch):
    _write(tmp_path / "s", 40, 100)
    urls = split_urls(tmp_path / "s", "inputs")
    keys = lambda samples: [s["__key__"] for s in samples]  # noqa: E731
    single = BatchStream(urls, 8, keys, shuffle=16, seed=2)
    expected = [sorted(next(single)) for _ in range(6)]  # crosses an epoch
    monkeypatch.setenv("WORLD_SIZE", "2")
    halves = []
    for rank in (0, 1):
        monkeypatch.setenv("RANK", str(rank))
        stream = BatchStream(urls, 4, keys, shuffle=16, seed=2)
        halves.append([next(stream) for _ in range(6)])
    assert [sorted(a + b) for a, b in zip(*halves, strict=True)] == expected


def test_every_worker_reads_a_disjoint_share_of_one_shard(tmp_path):
    _write(tmp_path / "s", 9, 100)
    dataset = open_shards(split_urls(tmp_path / "s", "inputs"), by_node=True)
    loader = torch.utils.data.DataLoader(dataset, batch_size=None, num_workers=2)
    keys = [s["__key__"] for s in loader]
    assert sorted(keys) == [f"s{i:03d}" for i in range(9)]


def test_training_reads_through_pipe_urls(tmp_path):
    _write(tmp_path / "s", 5, 2)
    urls = split_urls(tmp_path / "s", "inputs", "pipe:cat {path}")
    assert all(url.startswith("pipe:cat ") and url.endswith(".tar") for url in urls)
    assert sorted(int(s["value.npy"][0]) for s in open_shards(urls, by_node=True)) == list(range(5))


def test_runtime_params_are_checked():
    with pytest.raises(ParamsError, match="runtime.shard_url"):
        Runtime(shard_url="s3://bucket/x.tar").check("runtime")
    with pytest.raises(ParamsError, match="runtime.processes"):
        Runtime(processes=0).check("runtime")


def test_relaunch_runs_the_stage_module_under_torchrun(monkeypatch):
    import types

    from pipeline import distributed

    calls = []
    monkeypatch.setattr(distributed.os, "execv", lambda exe, argv: calls.append(argv))
    for name in ("LOCAL_RANK", "WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    main = types.ModuleType("__main__")
    main.__spec__ = types.SimpleNamespace(name="stages.train_pose")
    monkeypatch.setitem(sys.modules, "__main__", main)
    monkeypatch.setattr(sys, "argv", ["/x/stages/train_pose.py", "aign", "shards"])

    distributed.relaunch_under_torchrun(Runtime(processes=1))
    assert calls == []
    distributed.relaunch_under_torchrun(Runtime(processes=3))
    assert calls == [[sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=3", "-m",
                      "stages.train_pose", "aign", "shards"]]
    monkeypatch.setenv("LOCAL_RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "3")
    distributed.relaunch_under_torchrun(Runtime(processes=3))  # already one of torchrun's processes
    assert len(calls) == 1

    monkeypatch.delenv("LOCAL_RANK")
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))  # a script, not `python -m`
    with pytest.raises(ParamsError, match="runtime.processes: 3 processes need the stage started as"):
        distributed.relaunch_under_torchrun(Runtime(processes=3))


def test_batches_move_to_the_device_in_channels_last_layout():
    from pipeline.aign import _to_device

    batch = {"image": torch.rand(2, 3, 4, 5), "pose": torch.rand(2, 17, 3), "keys": ["a", "b"]}
    moved = _to_device(batch, torch.device("cpu"), channels_last=True)
    assert moved["image"].is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(moved["image"], batch["image"]) and torch.equal(moved["pose"], batch["pose"])
    assert moved["keys"] == ["a", "b"]
    assert _to_device(batch, torch.device("cpu"), channels_last=False)["image"].is_contiguous()


class _LayoutProbe(Task):
    """A one-convolution task that records the memory layout of what the loop hands it."""

    def __init__(self, channels_last: bool):
        self.channels_last, self.seen = channels_last, []

    def predict(self, generator, batch: dict) -> torch.Tensor:
        self.seen.append((batch["image"].is_contiguous(memory_format=torch.channels_last),
                          generator.weight.is_contiguous(memory_format=torch.channels_last)))
        return generator(batch["image"])

    def reconstruction_loss(self, prediction, batch: dict) -> torch.Tensor:
        return torch.nn.functional.mse_loss(prediction, batch["image"])

    def fake(self, prediction, batch: dict) -> torch.Tensor:
        return prediction.flatten(1)

    def real(self, memory: dict) -> torch.Tensor:
        return memory["image"].flatten(1)


@pytest.mark.parametrize("task_wants, runtime_wants", [(True, True), (True, False), (False, True)])
def test_convolutional_tasks_train_in_channels_last_layout_where_runtime_asks(tmp_path, task_wants, runtime_wants):
    from pipeline.aign import TrainConfig, train
    from pipeline.bench import RepeatedBatch

    task = _LayoutProbe(task_wants)
    batch = {"image": torch.rand(2, 3, 4, 4)}
    train(task, torch.nn.Conv2d(3, 3, 3, 1, 1), torch.nn.Linear(48, 1), RepeatedBatch(batch), RepeatedBatch(batch),
          TrainConfig(steps=2, batch_size=2), "aign", checkpoint=tmp_path / "c.pt", fingerprint="f",
          runtime=Runtime(channels_last=runtime_wants))
    assert task.seen == [(task_wants and runtime_wants,) * 2] * 2
