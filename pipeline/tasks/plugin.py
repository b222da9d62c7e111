"""What a task plugs into the pipeline, in one object: the train and bench stages are generic over it, and the
evaluations rebuild trained models through it.

A plug-in knows its params sections, how to build its models from them, how to collate its batches, which batch keys
are supervision (the ground truth that only the `supervised` variant may see: they are dropped from the batches of
`recon_only` and `aign`), and how to rebuild a trained generator from its model folder. The object it builds for the
training loop (`pipeline.aign.Task`) predicts, computes the losses and shows the discriminator fake and real samples.

Params are read by the stages and handed in as a `load(section, dataclass)` function: `pipeline/` reads no files
it is not given.
"""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

LoadParams = Callable[[str, type], Any]


class Task:
    """Base of the loop's task objects (the protocol `pipeline.aign.Task`): no constant tensors to move, networks
    that convolve images (channels-last layout: oneDNN's convolutions on the CPU and tensor cores on CUDA are
    faster in it)."""

    channels_last = True

    def to(self, device: torch.device) -> "Task":
        return self


class TaskPlugin:
    """Subclasses set the class attributes and implement `settings`, `build` and `describe`."""

    name: str  # the experiments' prefix (`<name>-<item>`) and the key of `experiments.<name>` in params.yaml
    dataset: str  # the shard folder of its inputs under data/shards/
    data: tuple[str, ...] = ("shards",)  # the paths its train stage takes after the item; "shards": the inputs
    memory_data: str = "shards"  # which of them holds the memory split
    supervision: tuple[str, ...] = ()  # input-batch keys that hold ground truth

    def variant(self, item: str) -> str:
        """The training variant of the experiment `item` names (pose, sfm: the item; faces: always aign)."""
        return item

    def settings(self, load: LoadParams, item: str):
        """(model settings, TrainConfig) of experiment `item`, from params."""
        raise NotImplementedError

    def build(self, settings, data: dict[str, Path]):
        """The loop's task object for these settings and data paths; its `build()` makes (generator, discriminator)."""
        raise NotImplementedError

    def describe(self, settings, item: str, data: dict[str, Path]) -> dict:
        """What model.json records besides the variant: enough for `load_trained` to rebuild the generator."""
        raise NotImplementedError

    def rebuild(self, info: dict, where: str, data: dict[str, Path]):
        """The task object of a trained model from its model.json (`info`, read from `where`), validated."""
        raise NotImplementedError

    @staticmethod
    def collate_inputs(samples: list[dict]) -> dict:
        raise NotImplementedError

    @staticmethod
    def collate_memory(samples: list[dict]) -> dict:
        raise NotImplementedError

    def collate_for(self, variant: str) -> Callable[[list[dict]], dict]:
        """The input collate of `variant`: without the supervision keys unless it is `supervised`."""
        if variant == "supervised" or not self.supervision:
            return self.collate_inputs
        return _Without(self.collate_inputs, self.supervision)

    def load_trained(self, model_dir: Path, data: dict[str, Path] | None = None):
        """(task object, generator in eval mode on the CPU, model.json) of a trained model folder."""
        path = Path(model_dir) / "model.json"
        info = json.loads(path.read_text())
        task = self.rebuild(info, str(path), data or {})
        generator, _ = task.build()
        generator.load_state_dict(torch.load(Path(model_dir) / "generator.pt", map_location="cpu", weights_only=True))
        return task, generator.eval(), info


class _Without:
    """A collate function whose batches lack `keys` (a class, not a closure: DataLoader workers pickle it)."""

    def __init__(self, collate: Callable[[list[dict]], dict], keys: tuple[str, ...]):
        self.collate, self.keys = collate, keys

    def __call__(self, samples: list[dict]) -> dict:
        return {k: v for k, v in self.collate(samples).items() if k not in self.keys}
