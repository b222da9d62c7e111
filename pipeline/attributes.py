"""The attribute classifier that measures memory bias: trained on labelled full-resolution faces of the train
partition (the attribute file is supervision for the evaluator only, never for a generator), it labels generated
faces so that the evaluation can count how often an output shows the memory set's attributes.

It is an ensemble of classifiers trained alike from different seeds (`faces.classifier.members`): they agree on
real faces, but generated ones lie between the classes they were trained on, where each member reads them its own
way. A rate is the members' mean, reported with their spread."""

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from pipeline.batches import BatchStream
from pipeline.errors import ParamsError
from pipeline.models.faces import AttributeClassifier
from pipeline.progress import StageProgress


@dataclass
class ClassifierSettings:
    """params.yaml faces.classifier."""

    attributes: list[str] = field(default_factory=lambda: ["Big_Nose", "Male", "Smiling"])
    width: int = 16
    steps: int = 600
    batch_size: int = 64
    lr: float = 1e-3
    seed: int = 0  # member i trains from seed + i (initialisation and data order)
    members: int = 1  # classifiers in the ensemble

    def check(self, where: str) -> None:
        if not self.attributes:
            raise ParamsError(f"param {where}.attributes: empty, expected at least one CelebA attribute")
        for name in ("width", "steps", "batch_size", "members"):
            if getattr(self, name) < 1:
                raise ParamsError(f"param {where}.{name}: found {getattr(self, name)}, expected a positive integer")


class AttributeEnsemble(torch.nn.Module):
    """Attribute classifiers trained alike from different seeds: (members, B, attributes) logits."""

    def __init__(self, members: list[AttributeClassifier]):
        super().__init__()
        self.members = torch.nn.ModuleList(members)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return torch.stack([member(image) for member in self.members])


def attribute_columns(names: list[str], wanted: list[str], where: str) -> list[int]:
    missing = [a for a in wanted if a not in names]
    if missing:
        raise ParamsError(f"param {where}: {missing[0]}: no such attribute, expected CelebA names such as "
                          f"{', '.join(names[:4])}")
    return [names.index(a) for a in wanted]


def train_classifier(streams: Callable[[int], BatchStream], columns: list[int], size: int,
                     cfg: ClassifierSettings) -> tuple[AttributeEnsemble, float]:
    """Each member: Adam on the binary cross-entropy of every attribute, from its own seed (`streams(seed)` gives
    the batches in that seed's order). Returns the ensemble and the samples/s it trained at."""
    members = []
    start = time.perf_counter()
    with StageProgress("train_classifier", cfg.steps * cfg.members) as progress:
        for member in range(cfg.members):
            torch.manual_seed(cfg.seed + member)
            model = AttributeClassifier(size, len(columns), cfg.width)
            opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
            model.train()
            stream = streams(cfg.seed + member)
            for _ in range(cfg.steps):
                batch = next(stream)
                targets = (batch["attributes"][:, columns] == 1).float()
                loss = F.binary_cross_entropy_with_logits(model(batch["image"]), targets)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                progress.advance(cfg.batch_size)
                progress.step()
            members.append(model)
    ensemble = AttributeEnsemble(members).eval()
    return ensemble, cfg.steps * cfg.batch_size * cfg.members / (time.perf_counter() - start)


class AttributeRates:
    """Accumulates each ensemble member's yes/no per attribute over many faces; `rate(filter)` is the share of faces
    that satisfy a memory set's filter ({attribute: 1 or -1}) according to the members, averaged over them, and
    `spread(filter)` its standard deviation over the members (0 for a single member)."""

    def __init__(self, attributes: list[str]):
        self.attributes = attributes
        self.labels: list[np.ndarray] = []  # (members, faces, attributes) per batch

    def update(self, logits: torch.Tensor) -> None:
        """`logits`: (members, faces, attributes), as `AttributeEnsemble` gives them."""
        self.labels.append((logits > 0).cpu().numpy())

    def _member_rates(self, wanted: dict[str, int]) -> np.ndarray:
        labels = np.concatenate(self.labels, axis=1)
        keep = np.ones(labels.shape[:2], bool)
        for name, value in wanted.items():
            keep &= labels[..., self.attributes.index(name)] == (value == 1)
        return keep.mean(axis=1)

    def rate(self, wanted: dict[str, int]) -> float:
        return round(float(self._member_rates(wanted).mean()), 4)

    def spread(self, wanted: dict[str, int]) -> float:
        rates = self._member_rates(wanted)
        return round(float(rates.std(ddof=1)), 4) if len(rates) > 1 else 0.0


def save_classifier(folder: Path, model: AttributeEnsemble, info: dict) -> None:
    """`info`: attributes, columns (their indices in the attribute file), size, width."""
    folder.mkdir()
    torch.save(model.state_dict(), folder / "classifier.pt")
    (folder / "model.json").write_text(json.dumps({**info, "members": len(model.members)}, indent=2) + "\n")


def load_classifier(folder: Path) -> tuple[AttributeEnsemble, list[str]]:
    info = json.loads((folder / "model.json").read_text())
    model = AttributeEnsemble([AttributeClassifier(info["size"], len(info["attributes"]), info["width"])
                               for _ in range(info["members"])])
    model.load_state_dict(torch.load(folder / "classifier.pt", map_location="cpu", weights_only=True))
    model.eval()
    return model, info["attributes"]
