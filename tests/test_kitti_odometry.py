import numpy as np
import pytest

from pipeline.datasets.kitti_odometry import odometry_sequence
from pipeline.errors import DataError
from pipeline.geometry import invert_rigid
from pipeline.metrics import ate
from pipeline.synthetic.kitti_odometry import write_kitti_odometry
from pipeline.synthetic.street_render import synthetic_intrinsics
from pipeline.synthetic.street_world import build_world, camera_pose


@pytest.fixture(scope="module")
def kitti_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("kitti")
    write_kitti_odometry(root, "09", seed=2, frames=5, size=(124, 38))
    return root


def test_reads_images_calibration_and_poses(kitti_root):
    seq = odometry_sequence(kitti_root, "09")
    assert [p.name for p in seq.images] == [f"{i:06d}.png" for i in range(5)]
    np.testing.assert_allclose(seq.intrinsics, synthetic_intrinsics((124, 38)), rtol=1e-9)
    assert seq.poses.shape == (5, 4, 4)
    np.testing.assert_allclose(seq.poses[0], np.eye(4), atol=1e-8)  # poses start at the first camera
    # The poses are the renderer's camera path, expressed in the first camera's frame.
    world = build_world(2, "09", 5)
    first = camera_pose(world, 0)
    expected = np.stack([first @ invert_rigid(camera_pose(world, i)) for i in range(5)])
    assert ate(seq.poses, expected, "se3")["max"] < 1e-6


def test_sequence_without_ground_truth(kitti_root, tmp_path):
    import shutil

    shutil.copytree(kitti_root / "sequences", tmp_path / "sequences")
    assert odometry_sequence(tmp_path, "09").poses is None


def test_malformed_files(kitti_root, tmp_path):
    import shutil

    shutil.copytree(kitti_root, tmp_path / "k")
    poses = tmp_path / "k" / "poses" / "09.txt"
    lines = poses.read_text().splitlines()
    poses.write_text("\n".join(lines[:2] + ["1 0 0"] + lines[3:]) + "\n")
    with pytest.raises(DataError, match=r"09.txt:3: found 3 values, expected 12"):
        odometry_sequence(tmp_path / "k", "09")
    poses.write_text("\n".join(lines[:4]) + "\n")
    with pytest.raises(DataError, match="4 poses for 5 images"):
        odometry_sequence(tmp_path / "k", "09")
    calib = tmp_path / "k" / "sequences" / "09" / "calib.txt"
    calib.write_text("P0: 1 2 3\n")
    with pytest.raises(DataError, match=r"calib.txt:1: found 3 values, expected 12"):
        odometry_sequence(tmp_path / "k", "09")
    with pytest.raises(DataError, match="no images"):
        odometry_sequence(tmp_path / "k", "10")
