"""Writing shards: each split as byte-reproducible tars rotated by sample count and size, and the folder's
`manifest.json`, written when the set closes."""

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import webdataset as wds

from pipeline.shards.codecs import encode_sample

SHARD_PATTERN = "{split}-{index:06d}.tar"
MANIFEST = "manifest.json"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class SplitWriter:
    """Writes one split as `<split>-NNNNNN.tar` shards, rotating by sample count and by bytes.

    Tar members get a fixed mtime, so the same samples always give byte-identical shards.
    """

    folder: Path
    split: str
    max_samples: int = 5000
    max_bytes: int = 256 << 20
    count: int = 0
    shards: list[dict] = field(default_factory=list)
    _tar: wds.TarWriter | None = None
    _shard_count: int = 0
    _shard_bytes: int = 0

    def write(self, encoded: dict) -> None:
        """Append one sample encoded by `encode_sample`."""
        size = sum(len(v) for k, v in encoded.items() if k != "__key__")
        if self._tar is None or self._shard_count >= self.max_samples or self._shard_bytes + size > self.max_bytes:
            self._rotate()
        self._tar.write(encoded)
        self._shard_count += 1
        self._shard_bytes += size
        self.count += 1

    def _rotate(self) -> None:
        self._close_shard()
        name = SHARD_PATTERN.format(split=self.split, index=len(self.shards))
        # An integer mtime: a float one makes tarfile add a PAX header to every member.
        self._tar = wds.TarWriter(str(self.folder / name), encoder=False, mtime=0)
        self.shards.append({"file": name})
        self._shard_count = self._shard_bytes = 0

    def _close_shard(self) -> None:
        if self._tar is None:
            return
        self._tar.close()
        self._tar = None
        entry = self.shards[-1]
        path = self.folder / entry["file"]
        entry.update(count=self._shard_count, bytes=path.stat().st_size, sha256=sha256_file(path))

    def close(self) -> dict:
        """Finish the last shard; return this split's manifest entry."""
        self._close_shard()
        return {"count": self.count, "shards": self.shards}

    def abort(self) -> None:
        """Close an open shard without recording it (the folder is about to be discarded)."""
        if self._tar is not None:
            self._tar.close()
            self._tar = None


class ShardSet:
    """A dataset's shard folder: one `SplitWriter` per split and a `manifest.json` written on `close`.

    Use it as a context manager: leaving the block by an exception closes open shards so nothing is left dangling.
    """

    def __init__(self, folder: Path, *, max_samples: int = 5000, max_bytes: int = 256 << 20):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=False)
        self.max_samples = max_samples
        self.max_bytes = max_bytes
        self.writers: dict[str, SplitWriter] = {}

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        if exc_type is not None:
            for writer in self.writers.values():
                writer.abort()

    def write(self, split: str, sample: dict) -> None:
        self.write_encoded(split, encode_sample(sample))

    def write_encoded(self, split: str, encoded: dict) -> None:
        """Write a sample already encoded by `encode_sample` (in a worker process, say)."""
        if split not in self.writers:
            self.writers[split] = SplitWriter(self.folder, split, self.max_samples, self.max_bytes)
        self.writers[split].write(encoded)

    def count(self, split: str) -> int:
        return self.writers[split].count if split in self.writers else 0

    def close(self, **manifest) -> dict:
        """Close every split and write the manifest (`splits` plus the given top-level entries)."""
        manifest["splits"] = {split: w.close() for split, w in self.writers.items()}
        (self.folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        return manifest
