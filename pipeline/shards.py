"""Webdataset shards: atomic writing with a manifest, and streaming reading with OpenCV decoders.

A sample is a dict `{"__key__": str, "<field>.<ext>": value}`. The extension picks the codec both ways:
`.png`/`.jpg` images (OpenCV), `.npy` arrays (`np.save`, no pickle), `.json` metadata. Keys must not contain dots:
webdataset splits a member name at the first dot of its basename into key and field.
"""

import hashlib
import io
import itertools
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import webdataset as wds

from pipeline.errors import DataError

SHARD_PATTERN = "{split}-{index:06d}.tar"
MANIFEST = "manifest.json"


# ---------------------------------------------------------------------------------------------- codecs


def encode_field(name: str, value) -> bytes:
    """Encode one sample field by the extension of its name."""
    ext = name.rsplit(".", 1)[-1]
    if ext == "png":
        ok, buf = cv2.imencode(".png", value, [cv2.IMWRITE_PNG_COMPRESSION, 3])
    elif ext == "jpg":
        ok, buf = cv2.imencode(".jpg", value, [cv2.IMWRITE_JPEG_QUALITY, 95])
    elif ext == "npy":
        out = io.BytesIO()
        np.save(out, np.ascontiguousarray(value), allow_pickle=False)
        return out.getvalue()
    elif ext == "json":
        return json.dumps(value, sort_keys=True).encode()
    else:
        raise ValueError(f"no encoder for sample field {name!r}")
    if not ok:
        raise ValueError(f"OpenCV could not encode sample field {name!r}")
    return buf.tobytes()


_NPY_HEADERS: dict[bytes, tuple[tuple[int, ...], bool, np.dtype]] = {}


def encode_sample(sample: dict) -> dict:
    """A sample with every field encoded to bytes (`__key__` kept), ready for `ShardSet.write_encoded`."""
    key = sample["__key__"]
    if "." in key or "/" in key:
        raise ValueError(f"sample key {key!r} must not contain '.' or '/'")
    return {"__key__": key} | {k: encode_field(k, v) for k, v in sample.items() if k != "__key__"}


def decode_npy(data: bytes) -> np.ndarray:
    """`np.load` for .npy bytes, parsing each distinct header once (the samples of a split share a few)."""
    if data[:6] != b"\x93NUMPY" or data[6] != 1:
        return np.load(io.BytesIO(data), allow_pickle=False)  # other format versions: the general path
    end = 10 + int.from_bytes(data[8:10], "little")
    spec = _NPY_HEADERS.get(data[:end])
    if spec is None:
        header = io.BytesIO(data[:end])
        header.seek(8)  # past the magic string and version
        spec = _NPY_HEADERS.setdefault(data[:end], np.lib.format.read_array_header_1_0(header))
    shape, fortran_order, dtype = spec
    if dtype.hasobject:
        raise ValueError("object arrays are not allowed in shards")
    array = np.frombuffer(data, dtype, offset=end).reshape(shape, order="F" if fortran_order else "C")
    return array.copy()  # writable and independent of the sample's bytes


def decode_field(name: str, data: bytes):
    """Decode one sample field by the extension of its name; unknown extensions stay bytes."""
    ext = name.rsplit(".", 1)[-1]
    if ext in ("png", "jpg", "jpeg"):
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
        if image is None:
            raise ValueError(f"corrupt image in sample field {name!r}")
        return image
    if ext == "npy":
        return decode_npy(data)
    if ext == "json":
        return json.loads(data)
    return data


def decode_sample(sample: dict) -> dict:
    """Decode every field of a raw webdataset sample; `__key__` and `__url__` pass through."""
    return {k: (v if k.startswith("__") else decode_field(k, v)) for k, v in sample.items()}


# ---------------------------------------------------------------------------------------------- writing


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


# ---------------------------------------------------------------------------------------------- reading


def read_manifest(folder: str | os.PathLike) -> dict:
    path = Path(folder) / MANIFEST
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise DataError(f"{path}: missing, expected a shard folder written by a prepare stage "
                        "(run dvc repro)") from None
    except json.JSONDecodeError as err:
        raise DataError(f"{path}: not valid JSON ({err}); rerun the prepare stage that wrote it") from None


def split_urls(folder: str | os.PathLike, split: str, url: str = "{path}") -> list[str]:
    """URLs of a split's shards, in manifest order: `url` with `{path}` replaced by each shard's local path
    (`"{path}"` itself, or e.g. `"pipe:cat {path}"`, `"pipe:aws s3 cp s3://bucket/{path} -"`)."""
    folder = Path(folder)
    splits = read_manifest(folder)["splits"]
    if split not in splits:
        raise DataError(f"{folder / MANIFEST}: no split {split!r}, expected one of {', '.join(splits)}")
    return [url.format(path=folder / s["file"]) for s in splits[split]["shards"]]


def _reader_slot(by_node: bool) -> tuple[int, int]:
    """(index, count) of this reader among all readers: DataLoader workers, times torch.distributed ranks when
    `by_node`."""
    rank, world_size, worker, workers = wds.utils.pytorch_worker_info()
    if not by_node:
        rank, world_size = 0, 1
    return rank * workers + worker, world_size * workers


def _partition_shards(shard_count: int, by_node: bool):
    """Whole shards per reader (`wds.split_by_node`, then `wds.split_by_worker`) when every reader gets one."""
    def split(src):
        if shard_count < _reader_slot(by_node)[1]:
            yield from src
        else:
            yield from wds.split_by_worker(wds.split_by_node(src) if by_node else src)
    return split


def _partition_samples(shard_count: int, by_node: bool):
    """With fewer shards than readers, every reader opens every shard and keeps every count-th sample (before
    decoding, so that each reader decodes only its share)."""
    def split(src):
        index, count = _reader_slot(by_node)
        yield from src if shard_count >= count else itertools.islice(src, index, None, count)
    return split


def _octal(field: bytes) -> int:
    return int(field.rstrip(b"\0 ").decode() or "0", 8)


def _tar_members(stream, url: str) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of each regular file in a tar stream: a direct header parser, several times faster than
    `tarfile` per member, for the ustar archives `SplitWriter` writes (also reads pax and GNU long names)."""
    long_name = None
    while True:
        header = stream.read(512)
        if len(header) < 512 or header == b"\0" * 512:
            if 0 < len(header) < 512:
                raise DataError(f"{url}: truncated tar header; the shard is damaged, rerun its prepare stage")
            return
        try:
            size = _octal(header[124:136])
            checksum = _octal(header[148:156])
        except ValueError:
            raise DataError(f"{url}: malformed tar header; the shard is damaged, rerun its prepare stage") from None
        if checksum != sum(header[:148]) + 256 + sum(header[156:]):
            raise DataError(f"{url}: tar header checksum mismatch; the shard is damaged, rerun its prepare stage")
        data = stream.read(size)
        if len(data) < size or len(stream.read(-size % 512)) < -size % 512:
            raise DataError(f"{url}: truncated tar member; the shard is damaged, rerun its prepare stage")
        kind = header[156:157]
        if kind == b"L":  # GNU long name of the next member
            long_name = data.rstrip(b"\0").decode()
        elif kind == b"x":  # pax extended header: "<length> <key>=<value>\n" records
            for record in data.decode().splitlines():
                key, _, value = record.partition(" ")[2].partition("=")
                if key == "path":
                    long_name = value
        elif kind in (b"0", b"\0"):
            name = header[:100].split(b"\0", 1)[0].decode()
            if header[257:262] == b"ustar" and header[345] != 0:
                name = header[345:500].split(b"\0", 1)[0].decode() + "/" + name
            yield long_name or name, data
            long_name = None


def _tar_samples(opened: Iterator[dict]) -> Iterator[dict]:
    """Samples of opened shards: members grouped by key (the name up to the first dot of its basename), each field
    under its extension; `__key__` and `__url__` as webdataset sets them."""
    for shard in opened:
        url, stream = shard["url"], shard["stream"]
        sample = None
        try:
            for name, data in _tar_members(stream, url):
                folder, _, base = name.rpartition("/")
                stem, dot, field = base.partition(".")
                if not dot or stem.startswith("__"):
                    continue
                key = f"{folder}/{stem}" if folder else stem
                if sample is None or sample["__key__"] != key:
                    if sample is not None:
                        yield sample
                    sample = {"__key__": key, "__url__": url}
                sample[field.lower()] = data
        finally:
            stream.close()
        if sample is not None:
            yield sample


class _ShardPipeline(wds.DataPipeline, wds.FluidInterface):
    """A webdataset pipeline with the fluent `.shuffle()`, `.map()`, `.batched()`, `.compose()`."""


def open_shards(
    urls: str | list[str],
    *,
    shuffle: int = 0,
    seed: int = 0,
    transform: Callable[[dict], dict] | None = None,
    by_node: bool = False,
) -> wds.DataPipeline:
    """A streaming dataset over shards: local paths, `pipe:` commands or any URL webdataset opens.

    Each reader (DataLoader worker; and torch.distributed rank when `by_node`, for training) gets a disjoint share:
    whole shards when there are at least as many shards as readers, every n-th sample otherwise, so a split stored
    in one shard still feeds every worker and rank. Without `by_node` (evaluation) this process reads every sample.
    `shuffle` > 0 shuffles the shard order and then samples in a buffer of that size, both seeded by `seed` (the
    same order every run and on every rank).
    """
    urls = [urls] if isinstance(urls, str) else list(urls)
    stages = [wds.SimpleShardList(urls), _partition_shards(len(urls), by_node)]
    if shuffle > 0:
        stages.append(wds.filters.shuffle(shuffle, seed=seed))
    stages += [wds.cache.StreamingOpen(), _tar_samples]
    dataset = _ShardPipeline(*stages)
    if shuffle > 0:
        dataset = dataset.shuffle(shuffle, seed=seed)
    # After the shuffle, which every reader runs with the same seed: reader r of n takes samples r, r + n, ... of
    # one sequence, so n readers with batches of b / n together see the batches of b one reader sees.
    dataset = dataset.compose(_partition_samples(len(urls), by_node)).map(decode_sample)
    if transform is not None:
        dataset = dataset.map(transform)
    return dataset


def iterate_split(folder: str | os.PathLike, split: str) -> Iterator[dict]:
    """Decoded samples of one split in stored order (evaluation and tests)."""
    yield from open_shards(split_urls(folder, split))
