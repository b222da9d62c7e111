"""Synthetic stand-ins written in exactly the real on-disk layouts, deterministic from a seed.

Each writer also leaves a `SYNTHETIC.json` marker in the dataset root so every report can label its numbers.
"""

import json
from pathlib import Path

MARKER = "SYNTHETIC.json"


def write_marker(root: Path, dataset: str, seed: int, **settings) -> None:
    (Path(root) / MARKER).write_text(json.dumps({"dataset": dataset, "seed": seed, **settings}, indent=2) + "\n")


def is_synthetic(root: str | Path) -> bool:
    return (Path(root) / MARKER).is_file()
