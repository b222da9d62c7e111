import io
import tarfile

import numpy as np
import pytest
import torch

from pipeline.batches import BatchStream
from pipeline.errors import DataError
from pipeline.shards import (
    ShardSet,
    decode_field,
    encode_field,
    iterate_split,
    open_shards,
    read_manifest,
    sha256_file,
    split_urls,
)
from pipeline.shards.reader import _tar_members


def _samples(n):
    rng = np.random.default_rng(0)
    for i in range(n):
        yield {
            "__key__": f"S9-Walking_1-cam2-{i:06d}",
            "image.png": rng.integers(0, 256, (8, 6, 3), dtype=np.uint8),
            "depth.png": rng.integers(0, 65536, (5, 7), dtype=np.uint16),
            "pose3d.npy": rng.normal(size=(17, 3)).astype(np.float32),
            "attributes.npy": rng.choice(np.array([-1, 1], np.int8), 40),
            "meta.json": {"subject": "S9", "frame": i},
        }


def test_round_trip_is_exact(tmp_path):
    folder = tmp_path / "shards"
    shards = ShardSet(folder, max_samples=4)
    originals = list(_samples(10))
    for sample in originals:
        shards.write("test", sample)
    manifest = shards.close(dataset="demo")
    assert manifest["splits"]["test"]["count"] == 10
    assert [s["count"] for s in manifest["splits"]["test"]["shards"]] == [4, 4, 2]
    assert read_manifest(folder) == manifest
    for entry in manifest["splits"]["test"]["shards"]:
        assert sha256_file(folder / entry["file"]) == entry["sha256"]

    decoded = list(iterate_split(folder, "test"))
    assert [d["__key__"] for d in decoded] == [o["__key__"] for o in originals]
    for original, back in zip(originals, decoded, strict=True):
        for name, value in original.items():
            if name == "__key__":
                continue
            if isinstance(value, np.ndarray):
                assert back[name].dtype == value.dtype
                np.testing.assert_array_equal(back[name], value)
            else:
                assert back[name] == value

    # The bytes stored in the tar are exactly the encoder's output.
    with tarfile.open(folder / "test-000000.tar") as tar:
        member = tar.extractfile(f"{originals[0]['__key__']}.pose3d.npy").read()
    assert member == encode_field("pose3d.npy", originals[0]["pose3d.npy"])


def test_shards_are_byte_identical_across_runs(tmp_path):
    for name in ("a", "b"):
        shards = ShardSet(tmp_path / name)
        for sample in _samples(3):
            shards.write("inputs", sample)
        shards.close()
    assert (tmp_path / "a" / "inputs-000000.tar").read_bytes() == (tmp_path / "b" / "inputs-000000.tar").read_bytes()


def test_keys_with_dots_are_refused(tmp_path):
    shards = ShardSet(tmp_path / "s")
    with pytest.raises(ValueError, match="must not contain"):
        shards.write("x", {"__key__": "S9.Walking", "meta.json": {}})


def test_rotation_by_bytes(tmp_path):
    shards = ShardSet(tmp_path / "s", max_bytes=2000)
    for sample in _samples(6):
        shards.write("inputs", sample)
    manifest = shards.close()
    assert len(manifest["splits"]["inputs"]["shards"]) > 1
    assert sum(s["count"] for s in manifest["splits"]["inputs"]["shards"]) == 6


def test_pipe_urls(tmp_path):
    shards = ShardSet(tmp_path / "s", max_samples=2)
    for sample in _samples(5):
        shards.write("test", sample)
    shards.close()
    urls = [f"pipe:cat {url}" for url in split_urls(tmp_path / "s", "test")]
    keys = [s["__key__"] for s in open_shards(urls)]
    assert len(keys) == 5 and len(set(keys)) == 5


def test_fewer_shards_than_workers(tmp_path):
    shards = ShardSet(tmp_path / "s")
    for sample in _samples(3):
        shards.write("test", sample)
    shards.close()
    dataset = open_shards(split_urls(tmp_path / "s", "test"))
    loader = torch.utils.data.DataLoader(dataset, batch_size=None, num_workers=2)
    keys = sorted(sample["__key__"] for sample in loader)
    assert keys == sorted(s["__key__"] for s in _samples(3))


def test_shuffled_reading_covers_every_sample_once(tmp_path):
    shards = ShardSet(tmp_path / "s", max_samples=3)
    for sample in _samples(9):
        shards.write("inputs", sample)
    shards.close()
    keys = [s["__key__"] for s in open_shards(split_urls(tmp_path / "s", "inputs"), shuffle=4, seed=1)]
    assert sorted(keys) == sorted(s["__key__"] for s in _samples(9))
    assert keys != sorted(keys)


def test_corrupt_image_field():
    with pytest.raises(ValueError, match="corrupt image"):
        decode_field("image.png", b"not a png")


@pytest.mark.parametrize("array", [
    np.arange(12, dtype=np.float64).reshape(3, 4),
    np.asfortranarray(np.arange(6, dtype=np.int16).reshape(2, 3)),
    np.zeros((0, 3), np.float32),
    np.array(3.5, np.float32),
    np.arange(4, dtype=">u2"),
])
def test_npy_decoder_matches_numpy(array):
    data = encode_field("x.npy", array)
    for _ in range(2):  # the second time through the header cache
        back = decode_field("x.npy", data)
        np.testing.assert_array_equal(back, array)
        assert back.dtype == array.dtype and back.flags.writeable
    import io

    raw = io.BytesIO()
    np.save(raw, np.asfortranarray(np.arange(6.0).reshape(2, 3)), allow_pickle=False)
    np.testing.assert_array_equal(decode_field("f.npy", raw.getvalue()), np.arange(6.0).reshape(2, 3))


def test_npy_with_objects_is_refused():
    import io

    raw = io.BytesIO()
    np.save(raw, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError):
        decode_field("x.npy", raw.getvalue())


def test_manifest_and_split_errors_name_the_file(tmp_path):
    with pytest.raises(DataError, match=r"manifest.json: missing, expected a shard folder written by a prepare"):
        read_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(DataError, match=r"manifest.json: not valid JSON"):
        read_manifest(tmp_path)
    shards = ShardSet(tmp_path / "s")
    for sample in _samples(3):
        shards.write("test", sample)
    shards.close()
    with pytest.raises(DataError, match=r"manifest.json: no split 'memory', expected one of test"):
        split_urls(tmp_path / "s", "memory")


def test_a_split_smaller_than_a_batch_is_a_clear_error(tmp_path):
    shards = ShardSet(tmp_path / "s")
    for sample in _samples(3):
        shards.write("test", sample)
    shards.close()
    stream = BatchStream(split_urls(tmp_path / "s", "test"), 4, lambda samples: samples, shuffle=0)
    with pytest.raises(DataError, match=r"test-000000.tar: fewer samples than one batch of 4 in this split"):
        next(stream)


def _one_shard(tmp_path, n=3):
    shards = ShardSet(tmp_path / "s")
    for sample in _samples(n):
        shards.write("test", sample)
    shards.close()
    return split_urls(tmp_path / "s", "test")[0]


def test_reader_matches_tarfile_member_for_member(tmp_path):
    url = _one_shard(tmp_path)
    with tarfile.open(url) as tar:
        expected = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
    samples = list(open_shards(url))
    with open(url, "rb") as stream:
        got = dict(_tar_members(stream, url))
    assert got == expected
    assert [s["__key__"] for s in samples] == [s["__key__"] for s in _samples(3)]


def test_reader_reads_pax_and_gnu_long_names(tmp_path):
    long_key = "k" * 120
    for fmt in (tarfile.PAX_FORMAT, tarfile.GNU_FORMAT):
        path = tmp_path / f"long-{fmt}.tar"
        with tarfile.open(path, "w", format=fmt) as tar:
            for field, data in (("a.json", b"1"), ("b.json", b"2")):
                info = tarfile.TarInfo(f"{long_key}.{field}")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        (sample,) = list(open_shards(str(path)))
        assert sample["__key__"] == long_key and sample["a.json"] == 1 and sample["b.json"] == 2


@pytest.mark.parametrize("damage, message", [
    (lambda data: data[:700], "truncated tar member"),
    (lambda data: data[:100], "truncated tar header"),
    (lambda data: b"X" + data[1:], "tar header checksum mismatch"),
    (lambda data: data[:124] + b"zz" + data[126:], "malformed tar header"),
])
def test_damaged_shard_is_a_one_line_error_naming_it(tmp_path, damage, message):
    url = _one_shard(tmp_path)
    with open(url, "rb") as f:
        data = f.read()
    with open(url, "wb") as f:
        f.write(damage(data))
    with pytest.raises(DataError, match=f"{url}: {message}"):
        list(open_shards(url))
