"""Face AIGN on CelebA: super-resolution and inpainting, with the discriminator's memory an attribute-biased set.

Super-resolution: the generator sees the average-pooled face (the renderer applied to the unseen full face) and
predicts a full face; reconstruction = L2 between the pooled prediction and the input.
Inpainting: the generator sees the face with a hole and the hole's mask; its hole is pasted into the known pixels;
reconstruction = L2 on the known pixels (the renderer keeps only those). Its discriminator judges a local window,
the hole and `disc_margin` pixels of context around it (Iizuka et al.'s local discriminator), in the generated and
in the memory faces alike: the adversarial signal lands where the generator paints.
The discriminator compares predicted faces with faces of the memory set (`experiments.sr`, `experiments.inpaint`):
a memory of big noses pulls the generator's guesses towards big noses where the input leaves room.
"""

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from pipeline.aign import TrainConfig
from pipeline.config import parse
from pipeline.errors import DataError, ParamsError
from pipeline.models.faces import FaceDiscriminator, InpaintingGenerator, SuperResolutionGenerator
from pipeline.render.faces import MaskMaker, average_pool, back_project, crop_windows, destroyed_detail, keep_known
from pipeline.shards import read_manifest
from pipeline.tasks.plugin import LoadParams, Task, TaskPlugin

DISC_INPUTS = ("face", "detail", "face_and_detail")
WARMUP = "warmup"  # the experiment name of a task's unbiased warm-up run
DETAIL_GAIN = 4.0  # the detail (a few hundredths) scaled towards the range of a face before D sees it
MIN_WINDOW = 16  # smaller windows leave the face discriminator under a 2x2 map of patch judgements


@dataclass
class FaceModel:
    width: int = 64  # generator channels
    blocks: int = 4  # residual blocks (the authors' super-resolution network: 15)
    disc_width: int = 32

    def check(self, where: str) -> None:
        for name in ("width", "blocks", "disc_width"):
            if getattr(self, name) < 1:
                raise ParamsError(f"param {where}.{name}: found {getattr(self, name)}, expected a positive integer")


@dataclass
class WarmUp:
    """params.yaml faces.sr.warmup: the unbiased run the memory runs start from, its discriminator remembering
    `memory_set` (the whole pool), trained with `train`'s settings over those of the memory runs."""

    memory_set: str = "all"
    train: dict[str, Any] = field(default_factory=dict)


@dataclass
class InpaintingWarmUp(WarmUp):
    """params.yaml faces.inpaint.warmup: as faces.sr.warmup, for one hole: the memory runs whose hole is `mask`
    start from it and train with `memory_train`'s settings over faces.inpaint.train; the others train from scratch."""

    mask: str = "mouth"
    memory_train: dict[str, Any] = field(default_factory=dict)


def overridden_train(settings, overrides: str, where: str) -> TrainConfig:
    """`settings.train` with the settings of `settings.warmup.<overrides>` in their place."""
    return parse(TrainConfig, {**asdict(settings.train), **getattr(settings.warmup, overrides)},
                 f"{where}.warmup.{overrides}")


@dataclass
class SuperResolution:
    """params.yaml faces.sr."""

    factor: int = 4
    disc_input: str = "face"  # what D judges: face, detail (the face less its block means), or face_and_detail
    disc_view: str = "patches"  # patches (40x40, logits averaged) or face (one judgement of the whole face)
    back_projection: int = 0  # iterations of back-projection onto the input after the generator (0: none)
    model: FaceModel = field(default_factory=FaceModel)
    train: TrainConfig = field(default_factory=TrainConfig)
    warmup: WarmUp = field(default_factory=WarmUp)

    def check(self, where: str) -> None:
        overridden_train(self, "train", where)
        if self.disc_view not in ("patches", "face"):
            raise ParamsError(f"param {where}.disc_view: found {self.disc_view!r}, expected patches or face")
        if self.disc_input not in DISC_INPUTS:
            raise ParamsError(f"param {where}.disc_input: found {self.disc_input!r}, expected one of "
                              f"{', '.join(DISC_INPUTS)}")
        if self.back_projection < 0:
            raise ParamsError(f"param {where}.back_projection: found {self.back_projection}, expected an integer "
                              ">= 0 (iterations)")
        if self.factor < 2 or self.factor & (self.factor - 1):
            raise ParamsError(f"param {where}.factor: found {self.factor}, expected a power of two >= 2")
        if self.model.width < self.factor:
            raise ParamsError(f"param {where}.model.width: found {self.model.width}, expected at least the factor "
                              f"({self.factor}): each x2 upsampling step halves the channels")


@dataclass
class Inpainting:
    """params.yaml faces.inpaint."""

    mask: str = "mouth"  # a key of regions, or random
    memory_masks: dict[str, str] = field(default_factory=dict)  # memory set -> its run's hole, where not `mask`
    regions: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)  # x, y, w, h in the 178x218 face
    random_size: tuple[float, float] = (0.25, 0.5)  # random boxes: side as a share of the face side
    disc_margin: int | None = 8  # context pixels around the hole in the discriminator's window; None: whole face
    disc_margins: dict[str, int | None] = field(default_factory=dict)  # hole -> its own disc_margin
    disc_view: str = "patches"  # patches (about 40x40, logits averaged) or window (one judgement of the window)
    disc_scale: int = 1  # the discriminator judges the window average-pooled by this factor
    model: FaceModel = field(default_factory=FaceModel)
    train: TrainConfig = field(default_factory=TrainConfig)
    warmup: InpaintingWarmUp = field(default_factory=InpaintingWarmUp)

    def check(self, where: str) -> None:
        overridden_train(self, "train", where)
        overridden_train(self, "memory_train", where)
        if self.disc_view not in ("patches", "window"):
            raise ParamsError(f"param {where}.disc_view: found {self.disc_view!r}, expected patches or window")
        if self.disc_scale < 1:
            raise ParamsError(f"param {where}.disc_scale: found {self.disc_scale}, expected a positive integer")
        holes = {f"memory_masks.{memory_set}": hole for memory_set, hole in self.memory_masks.items()}
        holes.update({f"disc_margins.{hole}": hole for hole in self.disc_margins})
        for key, hole in {**holes, "warmup.mask": self.warmup.mask}.items():
            if hole != "random" and hole not in self.regions:
                raise ParamsError(f"param {where}.{key}: found {hole!r}, expected random or one of the regions: "
                                  f"{', '.join(self.regions)}")

    def for_memory(self, experiment: str) -> "Inpainting":
        """The settings of experiment `experiment` (a memory set, or the warm-up): its own hole."""
        hole = self.warmup.mask if experiment == WARMUP else self.memory_masks.get(experiment, self.mask)
        return replace(self, mask=hole, memory_masks={})

    def margin(self) -> tuple[int | None, str]:
        """The discriminator's margin around this run's hole, and the param it comes from."""
        if self.mask in self.disc_margins:
            return self.disc_margins[self.mask], f"disc_margins.{self.mask}"
        return self.disc_margin, "disc_margin"


TASKS = {"sr": SuperResolution, "inpaint": Inpainting}


def collate_faces(samples: list[dict]) -> dict:
    """image (B, 3, S, S) BGR in [0, 1]; attributes (B, 40) of -1 / 1; keys."""
    images = np.stack([s["image.png"] for s in samples])
    return {"image": torch.from_numpy(images).permute(0, 3, 1, 2).float().div_(255.0),
            "attributes": torch.from_numpy(np.stack([s["attributes.npy"] for s in samples])),
            "keys": [s["__key__"] for s in samples]}


class FaceTask(Task):
    """What both face tasks share: predictions are dicts with the full `face`, judged against memory faces."""

    def supervised_loss(self, pred: dict, batch: dict) -> torch.Tensor:
        return F.mse_loss(pred["face"], batch["image"])

    def fake(self, pred: dict, batch: dict) -> torch.Tensor:
        return pred["face"]

    def real(self, memory: dict) -> torch.Tensor:
        return memory["image"]


class SuperResolutionTask(FaceTask):
    def __init__(self, settings: SuperResolution, size: int):
        if size % settings.factor:
            raise ParamsError(f"param faces.sr.factor: {settings.factor} does not divide the face size {size} "
                              f"(celeba.size)")
        self.settings, self.size = settings, size

    def build(self):
        m = self.settings.model
        channels = 6 if self.settings.disc_input == "face_and_detail" else 3
        return (SuperResolutionGenerator(self.settings.factor, m.width, m.blocks),
                FaceDiscriminator(m.disc_width, channels, self.size if self.settings.disc_view == "face" else None))

    def observe(self, batch: dict) -> torch.Tensor:
        """The generator's input: the low-resolution face."""
        return average_pool(batch["image"], self.settings.factor)

    def predict(self, generator, batch: dict) -> dict:
        low = self.observe(batch)
        return {"face": back_project(generator(low), low, self.settings.factor, self.settings.back_projection)}

    def reconstruction_loss(self, pred: dict, batch: dict) -> torch.Tensor:
        return F.mse_loss(average_pool(pred["face"], self.settings.factor), self.observe(batch))

    def judged(self, faces: torch.Tensor) -> torch.Tensor:
        """What the discriminator sees of a face: the face, or only what the renderer destroys (centred on 0.5)."""
        if self.settings.disc_input == "face":
            return faces
        detail = 0.5 + DETAIL_GAIN * destroyed_detail(faces, self.settings.factor)
        return detail if self.settings.disc_input == "detail" else torch.cat([faces, detail], dim=1)

    def fake(self, pred: dict, batch: dict) -> torch.Tensor:
        return self.judged(pred["face"])

    def real(self, memory: dict) -> torch.Tensor:
        return self.judged(memory["image"])

    def baseline(self, batch: dict) -> torch.Tensor:
        """Bicubic upsampling of the input, the classical answer."""
        return F.interpolate(self.observe(batch), scale_factor=self.settings.factor, mode="bicubic",
                             align_corners=False)


class InpaintingTask(FaceTask):
    def __init__(self, settings: Inpainting, size: int, crop_box):
        self.settings, self.size = settings, size
        self.masks = MaskMaker(settings.mask, settings.regions, crop_box, size, settings.random_size)
        margin, margin_param = settings.margin()
        self.window = None if margin is None else self.masks.window_size(margin)
        width, height = self.window or (size, size)
        if (margin is not None and margin < 0) or min(width, height) < MIN_WINDOW:
            raise ParamsError(f"param faces.inpaint.{margin_param}: found {margin}, expected a margin >= 0 "
                              f"giving a discriminator window of at least {MIN_WINDOW}x{MIN_WINDOW} pixels (or null: "
                              "the whole face)")
        self.judged_size = height // settings.disc_scale, width // settings.disc_scale  # what D sees: (H, W)
        if min(self.judged_size) < MIN_WINDOW:
            raise ParamsError(f"param faces.inpaint.disc_scale: found {settings.disc_scale}, expected a factor that "
                              f"leaves the {width}x{height} discriminator window at least {MIN_WINDOW}x{MIN_WINDOW} "
                              "pixels")

    def build(self):
        m = self.settings.model
        view = self.judged_size if self.settings.disc_view == "window" else None
        return InpaintingGenerator(m.width, m.blocks), FaceDiscriminator(m.disc_width, 3, view)

    def mask(self, batch: dict) -> torch.Tensor:
        """(B, 1, S, S): 1 inside the hole."""
        return self.masks(batch["keys"]).to(batch["image"].device)

    def observe(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
        mask = self.mask(batch)
        return keep_known(batch["image"], mask), mask

    def predict(self, generator, batch: dict) -> dict:
        known, mask = self.observe(batch)
        raw = generator(known, mask)
        return {"raw": raw, "face": known + raw * mask, "known": known, "mask": mask}

    def local(self, faces: torch.Tensor, keys: list[str]) -> torch.Tensor:
        """What the discriminator judges: each face's window around its hole (memory faces: around the hole their
        key would get), or the whole face; average-pooled by `disc_scale`."""
        if self.window is not None:
            faces = crop_windows(faces, self.masks.windows(keys, *self.window), *self.window)
        scale = self.settings.disc_scale
        return faces if scale == 1 else average_pool(faces, scale)

    def fake(self, pred: dict, batch: dict) -> torch.Tensor:
        return self.local(pred["face"], batch["keys"])

    def real(self, memory: dict) -> torch.Tensor:
        return self.local(memory["image"], memory["keys"])

    def reconstruction_loss(self, pred: dict, batch: dict) -> torch.Tensor:
        known_share = (1 - pred["mask"]).mean().clamp(min=1e-6)
        return F.mse_loss(keep_known(pred["raw"], pred["mask"]), pred["known"]) / known_share


class FacePlugin(TaskPlugin):
    """Face super-resolution or inpainting on CelebA; an experiment is a memory set, trained as aign."""

    dataset = "celeba"
    data = ("shards", "memory")
    memory_data = "memory"
    collate_inputs = staticmethod(collate_faces)
    collate_memory = staticmethod(collate_faces)

    def __init__(self, name: str):
        self.name = name

    def variant(self, item: str) -> str:
        return "aign"

    def settings(self, load: LoadParams, item: str):
        settings = load(f"faces.{self.name}", TASKS[self.name])
        if self.name == "inpaint":
            settings = settings.for_memory(item)
        if item == WARMUP:
            return settings, overridden_train(settings, "train", f"faces.{self.name}")
        if self.name == "inpaint" and self.starts_from_warmup(settings, item):
            return settings, overridden_train(settings, "memory_train", "faces.inpaint")
        return settings, settings.train

    def starts_from_warmup(self, settings, item: str) -> bool:
        """Whether the memory run `item` starts from the warm-up: every super-resolution run, the inpainting runs of
        the warm-up's hole."""
        return item != WARMUP and (self.name == "sr" or settings.mask == settings.warmup.mask)

    def memory_set(self, settings, item: str) -> str:
        """The memory set the discriminator of experiment `item` remembers."""
        return settings.warmup.memory_set if item == WARMUP else item

    def build(self, settings, data: dict[str, Path]):
        faces = read_manifest(data["shards"])
        return self.make_task(settings, faces["size"], faces["crop_box"])

    def describe(self, settings, item: str, data: dict[str, Path]) -> dict:
        faces, memory = read_manifest(data["shards"]), read_manifest(data["memory"])
        memory_set = self.memory_set(settings, item)
        if memory.get("memory_set") != memory_set:
            raise DataError(f"{data['memory']}/manifest.json: holds memory set {memory.get('memory_set')!r}, "
                            f"expected {memory_set!r}")
        if (memory["size"], memory["crop_box"]) != (faces["size"], faces["crop_box"]):
            raise DataError(f"{data['memory']}: faces of size {memory['size']} cropped at {memory['crop_box']}, but "
                            f"the inputs in {data['shards']} are {faces['size']} at {faces['crop_box']}: rerun the "
                            "prepare stages")
        return {"task": self.name, "memory_set": memory_set, "size": faces["size"], "crop_box": faces["crop_box"],
                "settings": {k: v for k, v in asdict(settings).items() if k not in ("train", "warmup")}}

    def rebuild(self, info: dict, where: str, data: dict[str, Path]):
        settings = parse(TASKS[self.name], info["settings"], f"{where}: settings")
        return self.make_task(settings, info["size"], info["crop_box"])

    def make_task(self, settings, size: int, crop_box):
        """The task object of `settings` for faces of `size` pixels cropped at `crop_box`."""
        if self.name == "sr":
            return SuperResolutionTask(settings, size)
        return InpaintingTask(settings, size, crop_box)


PLUGINS = {name: FacePlugin(name) for name in TASKS}
