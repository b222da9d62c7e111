import json
import shutil

import numpy as np
import pytest
from conftest import assert_no_outputs, run_stage_error

from pipeline.datasets.vkitti import open_vkitti, read_depth_cm
from pipeline.geometry import relative_motion
from pipeline.shards import iterate_split, read_manifest
from stages.prepare_vkitti import main

SPLITS = {"inputs": ["0001"], "memory": ["0002"], "test": ["0006"]}


def _params(root, **extra):
    return {"root": str(root), "splits": SPLITS, "variations": ["clone", "fog"], "size": [64, 20], **extra}


def test_prepare_vkitti(stage_dir, vkitti_root):
    stage_dir(vkitti=_params(vkitti_root, gap=2))
    main(["shards", "metrics.json"])
    # 6 frames -> 4 pairs (t, t+2) per variation; memory keeps every frame's depth.
    assert json.loads(open("metrics.json").read()) == {"inputs": 8, "memory": 12, "test": 8, "corrupt_skipped": 0}
    manifest = read_manifest("shards")
    assert manifest["gap"] == 2 and manifest["size"] == [64, 20]
    assert 0 < manifest["stats"]["inputs"]["valid_depth_share"]["mean"][0] < 1

    seq = open_vkitti(vkitti_root, "vkitti1", "0001", "clone")
    sample = next(iter(iterate_split("shards", "inputs")))
    assert sample["__key__"] == "0001-clone-000000"
    assert sample["image1.png"].shape == (20, 64, 3) and sample["depth.png"].dtype == np.uint16
    np.testing.assert_allclose(sample["motion.npy"],
                               relative_motion(seq.frames[0].world_to_cam, seq.frames[2].world_to_cam))
    fx, fy, cx, cy = seq.frames[0].intrinsics
    w, h = 156, 47  # the fixture's resolution
    np.testing.assert_allclose(sample["intrinsics.npy"], [fx * 64 / w, fy * 20 / h, (cx + 0.5) * 64 / w - 0.5,
                                                          (cy + 0.5) * 20 / h - 0.5], rtol=1e-5)
    # Depth is sampled on the images' pixel grid: output pixel (i, j) holds the input pixel under its centre.
    raw = read_depth_cm(seq.frames[0].depth)
    rows = np.floor((np.arange(20) + 0.5) * h / 20).astype(int)
    columns = np.floor((np.arange(64) + 0.5) * w / 64).astype(int)
    np.testing.assert_array_equal(sample["depth.png"], raw[rows][:, columns])
    memory = next(iter(iterate_split("shards", "memory")))
    assert {k for k in memory if not k.startswith("__")} == {"depth.png", "intrinsics.npy", "meta.json"}


def _corrupt_copy(vkitti_root, tmp_path, how_many):
    root = tmp_path / "vkitti"
    shutil.copytree(vkitti_root, root)
    for frame in range(how_many):
        (root / "vkitti_1.3.1_rgb" / "0001" / "clone" / f"{frame + 1:05d}.png").write_bytes(b"\x89PNG broken")
    return root


def test_corrupt_images_are_skipped_and_counted(stage_dir, vkitti_root, tmp_path):
    root = _corrupt_copy(vkitti_root, tmp_path, 1)
    stage_dir(vkitti=_params(root, max_corrupt_fraction=0.2))
    main(["shards", "metrics.json"])
    metrics = json.loads(open("metrics.json").read())
    assert metrics["corrupt_skipped"] == 2  # frame 1 belongs to pairs (0, 1) and (1, 2)
    assert metrics["inputs"] == 10 - 2
    assert "00001.png: unreadable or corrupt image" in read_manifest("shards")["corrupt_skipped"][0]


def test_too_many_corrupt_images_fail(stage_dir, vkitti_root, tmp_path, capsys):
    root = _corrupt_copy(vkitti_root, tmp_path, 3)
    stage_dir(vkitti=_params(root, max_corrupt_fraction=0.05))
    line = run_stage_error(main, ["shards", "metrics.json"], capsys)
    assert "images are corrupt, more than vkitti.max_corrupt_fraction=0.05 allows" in line
    assert_no_outputs("shards", "metrics.json")


@pytest.mark.parametrize("override, message", [
    ({"layout": "vkitti2"}, "0001/clone: folder not found (expected the Virtual KITTI 2 layout"),
    ({"variations": ["rain"]}, "vkitti_1.3.1_rgb/0001/rain: folder not found"),
    ({"splits": {"inputs": ["0001"], "memory": ["0001"], "test": ["0006"]}},
     "param vkitti.splits.memory: 0001 is already in inputs"),
    ({"splits": {"inputs": [1], "memory": ["0002"], "test": ["0006"]}},
     "param vkitti.splits.inputs[0]: found 1, expected a string (quote it in params.yaml)"),
])
def test_bad_layout_or_params(stage_dir, vkitti_root, capsys, override, message):
    stage_dir(vkitti=_params(vkitti_root, **override))
    assert message in run_stage_error(main, ["shards", "metrics.json"], capsys)
    assert_no_outputs("shards", "metrics.json")
