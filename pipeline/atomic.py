"""Atomic outputs: write into temporary siblings, rename into place only when everything succeeded."""

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


@contextlib.contextmanager
def atomic_outputs(*targets: str | os.PathLike) -> Iterator[list[Path]]:
    """Yield one temporary path per target; on success each replaces its target, on failure all are removed.

    A target that already exists is left untouched when the block fails, and replaced as a whole when it succeeds.
    Temporary paths live beside their targets (same filesystem), so the final rename is atomic per target.
    """
    finals = [Path(t) for t in targets]
    temps = []
    try:
        for final in finals:
            final.parent.mkdir(parents=True, exist_ok=True)
            temps.append(Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)))
        # Callers get a fresh, non-existing path: a folder to create or a file to write.
        paths = [tmp / final.name for tmp, final in zip(temps, finals, strict=True)]
        yield paths
        for path, final in zip(paths, finals, strict=True):
            if not path.exists():
                raise RuntimeError(f"atomic output {final} was never written")
        for path, final in zip(paths, finals, strict=True):
            _remove(final)
            os.replace(path, final)
    finally:
        for tmp in temps:
            shutil.rmtree(tmp, ignore_errors=True)


def write_json(path: str | os.PathLike, data) -> None:
    """Write `data` as indented JSON with a trailing newline (stable diffs)."""
    Path(path).write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
