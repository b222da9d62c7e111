"""The attribute classifier that measures memory bias: trained on labelled full-resolution faces of the train
partition (the attribute file is supervision for the evaluator only, never for a generator), it labels generated
faces so that the evaluation can count how often an output shows the memory set's attributes."""

import json
import time
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
    seed: int = 0

    def check(self, where: str) -> None:
        if not self.attributes:
            raise ParamsError(f"param {where}.attributes: empty, expected at least one CelebA attribute")
        for name in ("width", "steps", "batch_size"):
            if getattr(self, name) < 1:
                raise ParamsError(f"param {where}.{name}: found {getattr(self, name)}, expected a positive integer")


def attribute_columns(names: list[str], wanted: list[str], where: str) -> list[int]:
    missing = [a for a in wanted if a not in names]
    if missing:
        raise ParamsError(f"param {where}: {missing[0]}: no such attribute, expected CelebA names such as "
                          f"{', '.join(names[:4])}")
    return [names.index(a) for a in wanted]


def train_classifier(stream: BatchStream, columns: list[int], size: int, cfg: ClassifierSettings) -> tuple:
    """Adam on the binary cross-entropy of every attribute; returns the model and the samples/s it trained at."""
    torch.manual_seed(cfg.seed)
    model = AttributeClassifier(size, len(columns), cfg.width)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    model.train()
    start = time.perf_counter()
    with StageProgress("train_classifier", cfg.steps) as progress:
        for _ in range(cfg.steps):
            batch = next(stream)
            targets = (batch["attributes"][:, columns] == 1).float()
            loss = F.binary_cross_entropy_with_logits(model(batch["image"]), targets)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            progress.advance(cfg.batch_size)
            progress.step()
    model.eval()
    return model, cfg.steps * cfg.batch_size / (time.perf_counter() - start)


class AttributeRates:
    """Accumulates the classifier's yes/no per attribute over many faces; `rate(filter)` is the share of faces that
    satisfy a memory set's filter ({attribute: 1 or -1}) according to the classifier."""

    def __init__(self, attributes: list[str]):
        self.attributes = attributes
        self.labels: list[np.ndarray] = []

    def update(self, logits: torch.Tensor) -> None:
        self.labels.append((logits > 0).cpu().numpy())

    def rate(self, wanted: dict[str, int]) -> float:
        labels = np.concatenate(self.labels)
        keep = np.ones(len(labels), bool)
        for name, value in wanted.items():
            keep &= labels[:, self.attributes.index(name)] == (value == 1)
        return round(float(keep.mean()), 4)


def save_classifier(folder: Path, model: AttributeClassifier, info: dict) -> None:
    """`info`: attributes, columns (their indices in the attribute file), size, width."""
    folder.mkdir()
    torch.save(model.state_dict(), folder / "classifier.pt")
    (folder / "model.json").write_text(json.dumps(info, indent=2) + "\n")


def load_classifier(folder: Path) -> tuple[AttributeClassifier, list[str]]:
    info = json.loads((folder / "model.json").read_text())
    model = AttributeClassifier(info["size"], len(info["attributes"]), info["width"])
    model.load_state_dict(torch.load(folder / "classifier.pt", map_location="cpu", weights_only=True))
    model.eval()
    return model, info["attributes"]
