import json
from pathlib import Path

import numpy as np
import torch
from conftest import assert_no_outputs, run_stage_error

from pipeline.datasets.h36m import read_cameras
from pipeline.geometry import distort_project
from pipeline.render.heatmaps import from_uint8_tiles, gaussian_heatmaps
from pipeline.shards import iterate_split, read_manifest
from stages.prepare_h36m import main

SPLITS = {"inputs": ["S1", "S5"], "memory": ["S7"], "test": ["S9", "S11"]}


def test_prepare_h36m(stage_dir, h36m_root, capsys):
    stage_dir(h36m={"root": str(h36m_root), "splits": SPLITS, "stride": 4, "shard_max_samples": 50})
    main(["shards", "metrics.json"])
    assert "samples/s" in capsys.readouterr().out
    counts = json.loads(open("metrics.json").read())
    # 20 frames at stride 4 = 5 frames, x 4 cameras, x 4 takes (S11 has no "Directions": 3 takes).
    assert counts == {"inputs": 2 * 4 * 20, "memory": 4 * 20, "test": 4 * 20 + 3 * 20}
    manifest = read_manifest("shards")
    assert manifest["synthetic"] is True
    assert manifest["splits"]["inputs"]["count"] == 160 and len(manifest["splits"]["inputs"]["shards"]) == 4

    cameras = read_cameras(h36m_root / "cameras.h5", ["S9"])
    sample = next(iter_split := iterate_split("shards", "test"))
    assert sample["__key__"].startswith("S9-") and sample["meta.json"]["subject"] == "S9"
    cam = cameras[("S9", sample["meta.json"]["camera"])]
    np.testing.assert_allclose(sample["camera.npy"], cam.intrinsics(), rtol=1e-6)
    # The stored keypoints are the full camera model applied to the stored camera-frame pose.
    np.testing.assert_allclose(sample["keypoints.npy"],
                               distort_project(sample["pose3d.npy"].astype(np.float64), cam.f, cam.c, cam.k, cam.p),
                               atol=1e-2)
    # Every heatmap peaks where its keypoint lies inside the crop.
    x0, y0, side = sample["crop.npy"]
    heatmaps = from_uint8_tiles(sample["heatmaps.png"], 17)
    assert heatmaps.shape == (17, 64, 64)
    points = (sample["keypoints.npy"] - [x0, y0]) * 64 / side
    for j in range(17):
        row, col = np.unravel_index(heatmaps[j].argmax(), heatmaps[j].shape)
        assert abs(col + 0.5 - points[j, 0]) <= 1.0 and abs(row + 0.5 - points[j, 1]) <= 1.0
    np.testing.assert_allclose(heatmaps, gaussian_heatmaps(torch.from_numpy(points), 64, 1.5).numpy(), atol=1 / 255)
    assert (points > 0).all() and (points < 64).all()  # the crop holds the whole person
    next(iter_split)

    memory = next(iter(iterate_split("shards", "memory")))
    assert {k for k in memory if not k.startswith("__")} == {"camera.npy", "pose3d.npy", "meta.json"}  # no 2D


def test_shards_do_not_depend_on_the_worker_processes(stage_dir, h36m_root, monkeypatch):
    stage_dir(h36m={"root": str(h36m_root), "splits": SPLITS, "stride": 4, "shard_max_samples": 50})
    written = {}
    for workers in ("1", "2"):
        monkeypatch.setenv("AIGN_DATA_WORKERS", workers)
        main([f"shards-{workers}", f"metrics-{workers}.json"])
        written[workers] = {p.name: p.read_bytes() for p in Path(f"shards-{workers}").iterdir()}
    assert written["1"] == written["2"] and len(written["1"]) > 5


def test_missing_root(stage_dir, tmp_path, capsys):
    stage_dir(h36m={"root": str(tmp_path / "nowhere")})
    line = run_stage_error(main, ["shards", "metrics.json"], capsys)
    assert "nowhere: Human3.6M root not found" in line
    assert_no_outputs("shards", "metrics.json")


def test_wrong_shape_h5_leaves_no_output(stage_dir, h36m_root, tmp_path, capsys):
    import shutil

    import h5py

    root = tmp_path / "h36m"
    shutil.copytree(h36m_root, root)
    with h5py.File(root / "S9" / "MyPoses" / "3D_positions" / "Walking.h5", "w") as hf:
        hf["3D_positions"] = np.zeros((48, 20))
    stage_dir(h36m={"root": str(root), "splits": SPLITS})
    line = run_stage_error(main, ["shards", "metrics.json"], capsys)
    assert "Walking.h5: 3D_positions has shape (48, 20), expected (96, N)" in line
    assert_no_outputs("shards", "metrics.json")


def test_unknown_param(stage_dir, h36m_root, capsys):
    stage_dir(h36m={"root": str(h36m_root), "strid": 3})
    line = run_stage_error(main, ["shards", "metrics.json"], capsys)
    assert line.startswith("error: param h36m.strid: unknown key, expected one of")
    assert_no_outputs("shards", "metrics.json")


def test_overlapping_test_subject(stage_dir, h36m_root, capsys):
    stage_dir(h36m={"root": str(h36m_root), "splits": {"inputs": ["S1"], "memory": ["S7"], "test": ["S1"]}})
    line = run_stage_error(main, ["shards", "metrics.json"], capsys)
    assert "param h36m.splits.test: S1 is already in inputs" in line
