"""Reading shards: the manifest, the split's shard URLs, and streams of decoded samples partitioned over
DataLoader workers and distributed ranks."""

import itertools
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import webdataset as wds

from pipeline.errors import DataError
from pipeline.shards.codecs import decode_sample
from pipeline.shards.writer import MANIFEST


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
