import json
import shutil

import numpy as np
import pytest
from conftest import assert_no_outputs, run_stage_error

from pipeline.datasets.celeba import iter_records
from pipeline.prepare.celeba import in_memory_pool
from pipeline.shards import iterate_split, read_manifest
from stages.prepare_celeba import main

SETS = {"all": {}, "big_nose": {"Big_Nose": 1}, "female_young": {"Male": -1, "Young": 1},
        "nobody": {"Male": 1, "Wearing_Lipstick": 1}}


def _params(root, **extra):
    return {"root": str(root), "size": 32, "memory_sets": SETS, **extra}


def _expected(root, keep=lambda attributes: True):
    records = list(iter_records(root))
    pool = [r for r in records if r.partition == "train" and in_memory_pool(r.file, 0.5)]
    inputs = [r for r in records if r.partition == "train" and not in_memory_pool(r.file, 0.5)]
    return inputs, [r for r in pool if keep(r.attributes)]


def test_main_splits(stage_dir, celeba_root):
    stage_dir(celeba=_params(celeba_root))
    main(["main", "shards", "metrics.json"])
    inputs, _ = _expected(celeba_root)
    assert json.loads(open("metrics.json").read()) == {"inputs": len(inputs), "val": 8, "test": 8,
                                                        "corrupt_skipped": 0}
    samples = list(iterate_split("shards", "inputs"))
    assert [s["__key__"] + ".jpg" for s in samples] == [r.file for r in inputs]
    assert samples[0]["image.png"].shape == (32, 32, 3)
    np.testing.assert_array_equal(samples[0]["attributes.npy"], inputs[0].attributes)
    assert read_manifest("shards")["synthetic"] is True


@pytest.mark.parametrize("name", ["all", "big_nose", "female_young"])
def test_memory_sets(stage_dir, celeba_root, name):
    stage_dir(celeba=_params(celeba_root))
    main(["memory", name, "memory", "memory.json"])
    from pipeline.datasets.celeba import ATTRIBUTES

    def keep(attributes):
        return all(attributes[ATTRIBUTES.index(a)] == v for a, v in SETS[name].items())

    inputs, memory = _expected(celeba_root, keep)
    assert json.loads(open("memory.json").read())["memory"] == len(memory) > 0
    keys = {s["__key__"] + ".jpg" for s in iterate_split("memory", "memory")}
    assert keys == {r.file for r in memory}
    assert not keys & {r.file for r in inputs}  # the memory is never paired with an input
    manifest = read_manifest("memory")
    assert manifest["memory_set"] == name
    for attribute, value in SETS[name].items():
        assert manifest["stats"]["memory"]["attribute_rate"][attribute] == (1.0 if value == 1 else 0.0)


def test_empty_memory_set(stage_dir, celeba_root, capsys):
    stage_dir(celeba=_params(celeba_root))
    line = run_stage_error(main, ["memory", "nobody", "memory", "memory.json"], capsys)
    assert "no samples for memory set nobody {'Male': 1, 'Wearing_Lipstick': 1} (loosen celeba.memory_sets)" in line
    assert_no_outputs("memory", "memory.json")


def test_unknown_attribute(stage_dir, celeba_root, capsys):
    stage_dir(celeba=_params(celeba_root, memory_sets={"typo": {"Big_Noze": 1}}))
    line = run_stage_error(main, ["memory", "typo", "memory", "memory.json"], capsys)
    assert "param celeba.memory_sets.typo.Big_Noze: no such attribute in list_attr_celeba.txt" in line
    assert_no_outputs("memory", "memory.json")


def test_unknown_memory_set(stage_dir, celeba_root, capsys):
    stage_dir(celeba=_params(celeba_root))
    line = run_stage_error(main, ["memory", "big_noses", "memory", "memory.json"], capsys)
    assert "memory set 'big_noses': not in celeba.memory_sets, expected one of all, big_nose" in line
    assert_no_outputs("memory", "memory.json")


def _corrupt(celeba_root, tmp_path, files):
    root = tmp_path / "celeba"
    shutil.copytree(celeba_root, root)
    for file in files:
        (root / "img_align_celeba" / file).write_bytes(b"garbage")
    return root


def test_corrupt_faces_are_skipped(stage_dir, celeba_root, tmp_path):
    root = _corrupt(celeba_root, tmp_path, ["000075.jpg"])  # a test-partition face
    stage_dir(celeba=_params(root, max_corrupt_fraction=0.05))
    main(["main", "shards", "metrics.json"])
    metrics = json.loads(open("metrics.json").read())
    assert metrics["test"] == 7 and metrics["corrupt_skipped"] == 1


def test_too_many_corrupt_faces(stage_dir, celeba_root, tmp_path, capsys):
    root = _corrupt(celeba_root, tmp_path, [f"{i:06d}.jpg" for i in range(1, 11)])
    stage_dir(celeba=_params(root))
    line = run_stage_error(main, ["main", "shards", "metrics.json"], capsys)
    assert "more than celeba.max_corrupt_fraction=0.01 allows; first: " in line
    assert_no_outputs("shards", "metrics.json")


def test_malformed_attribute_line_in_stage(stage_dir, celeba_root, tmp_path, capsys):
    root = _corrupt(celeba_root, tmp_path, [])
    path = root / "list_attr_celeba.txt"
    lines = path.read_text().splitlines(keepends=True)
    lines[9] = "000008.jpg 1 1\n"
    path.write_text("".join(lines))
    stage_dir(celeba=_params(root))
    line = run_stage_error(main, ["main", "shards", "metrics.json"], capsys)
    assert "list_attr_celeba.txt:10: found 2 values, expected 40" in line
    assert_no_outputs("shards", "metrics.json")


def test_missing_root(stage_dir, tmp_path, capsys):
    stage_dir(celeba=_params(tmp_path / "absent"))
    assert "absent: CelebA root not found" in run_stage_error(main, ["main", "shards", "m.json"], capsys)
