"""A task is one plug-in: a tiny task written in this file alone trains through the generic train stage, keeps its
supervision out of the unsupervised variants' batches, and rebuilds from its model folder."""

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from conftest import REPO

from pipeline.aign import TrainConfig
from pipeline.config import parse
from pipeline.shards import ShardSet
from pipeline.tasks.plugin import Task, TaskPlugin
from pipeline.tasks.registry import TASKS
from stages.training import train_main


@dataclass
class ToySettings:
    """params.yaml toy.model: the renderer doubles the hidden value."""

    gain: float = 2.0


def _collate(samples: list[dict]) -> dict:
    return {"observed": torch.from_numpy(np.stack([s["observed.npy"] for s in samples])),
            "hidden": torch.from_numpy(np.stack([s["hidden.npy"] for s in samples]))}


class ToyTask(Task):
    """Infer a hidden value from its doubled observation: generator and discriminator are single linear layers."""

    def __init__(self, settings: ToySettings):
        self.settings, self.seen_keys = settings, set()

    def build(self):
        return torch.nn.Linear(1, 1), torch.nn.Linear(1, 1)

    def predict(self, generator, batch: dict) -> torch.Tensor:
        self.seen_keys |= set(batch)
        return generator(batch["observed"])

    def reconstruction_loss(self, prediction, batch: dict) -> torch.Tensor:
        return torch.nn.functional.mse_loss(self.settings.gain * prediction, batch["observed"])

    def supervised_loss(self, prediction, batch: dict) -> torch.Tensor:
        return torch.nn.functional.mse_loss(prediction, batch["hidden"])

    def fake(self, prediction, batch: dict) -> torch.Tensor:
        return prediction

    def real(self, memory: dict) -> torch.Tensor:
        return memory["hidden"]


class ToyPlugin(TaskPlugin):
    name, dataset = "toy", "toy"
    supervision = ("hidden",)
    collate_inputs = staticmethod(_collate)
    collate_memory = staticmethod(_collate)

    def __init__(self):
        self.tasks: list[ToyTask] = []

    def settings(self, load, item: str):
        return load("toy.model", ToySettings), load("toy.train", TrainConfig)

    def build(self, settings: ToySettings, data: dict[str, Path]) -> ToyTask:
        self.tasks.append(ToyTask(settings))
        return self.tasks[-1]

    def describe(self, settings: ToySettings, item: str, data: dict[str, Path]) -> dict:
        return {"task": self.name, "model": asdict(settings)}

    def rebuild(self, info: dict, where: str, data: dict[str, Path]) -> ToyTask:
        return ToyTask(parse(ToySettings, info["model"], f"{where}: model"))


@pytest.fixture
def toy(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    with ShardSet(tmp_path / "shards") as shards:
        for split in ("inputs", "memory"):
            for i in range(32):
                hidden = rng.normal(size=1).astype(np.float32)
                shards.write(split, {"__key__": f"{split}{i:04d}", "hidden.npy": hidden, "observed.npy": 2 * hidden})
        shards.close()
    params = {"toy": {"model": {"gain": 2.0}, "train": {"steps": 4, "batch_size": 8, "shuffle": 8, "log_every": 2,
                                                        "checkpoint_every": 2}},
              "runtime": {"processes": 1}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    monkeypatch.setenv("AIGN_PARAMS", str(tmp_path / "params.yaml"))
    monkeypatch.chdir(tmp_path)  # the stage's scratch checkpoints go to data/checkpoints/ under the working folder
    return tmp_path


@pytest.mark.parametrize("variant", ["supervised", "recon_only", "aign"])
def test_a_new_task_trains_through_the_generic_stage_without_seeing_its_supervision(toy, variant):
    plugin = ToyPlugin()
    model = toy / f"toy-{variant}"
    train_main(plugin, [variant, str(toy / "shards"), str(model), str(toy / "train.json"), str(toy / "live")],
               "stages.training", "the toy task's train stage")
    seen = plugin.tasks[0].seen_keys
    assert ("hidden" in seen) == (variant == "supervised"), seen
    assert json.loads((model / "model.json").read_text()) == {"variant": variant, "log_every": 2, "task": "toy",
                                                               "model": {"gain": 2.0}}
    task, generator, _ = plugin.load_trained(model)
    assert isinstance(task, ToyTask) and not generator.training
    trained = torch.load(model / "generator.pt", weights_only=True)
    assert all(torch.equal(generator.state_dict()[k], v) for k, v in trained.items())


def test_the_registry_holds_a_plugin_for_every_task_of_the_experiments():
    assert set(TASKS) == set(yaml.safe_load((REPO / "params.yaml").read_text())["experiments"])
    for name, plugin in TASKS.items():
        assert plugin.name == name and set(plugin.supervision).isdisjoint({"keys", "image"}), name
        assert {"shards", plugin.memory_data} <= set(plugin.data), name
