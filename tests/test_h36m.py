import h5py
import numpy as np
import pytest

from pipeline.datasets.h36m import (
    action_of,
    iter_sequences,
    open_h36m,
    published_cameras,
    read_cameras,
    read_sequence_file,
)
from pipeline.errors import DataError
from pipeline.skeleton import JOINTS_17
from pipeline.synthetic.h36m import subject_sequences, write_videopose3d


def test_reads_every_take_as_32_joint_millimetres(h36m_root):
    sequences = list(iter_sequences(h36m_root, ["S1"]))
    assert sorted(s.name for s in sequences) == ["Directions", "Directions 1", "Walking", "Walking 1"]
    for seq in sequences:
        assert seq.poses.shape == (20, 32, 3)
        assert seq.action in ("Directions", "Walking")
        height = seq.poses[:, 15, 2] - seq.poses[:, 3, 2]  # head top above the right foot, mm
        assert 1300 < height.mean() < 1900


def test_reader_returns_what_the_writer_stored(h36m_root):
    expected = subject_sequences("S5", seed=1, frames=20, actions=["Directions", "Walking"], takes=2)
    for seq in iter_sequences(h36m_root, ["S5"]):
        np.testing.assert_array_equal(seq.poses, expected[seq.name])


def test_s11_directions_is_skipped(h36m_root):
    names = [s.name for s in iter_sequences(h36m_root, ["S11"])]
    assert "Directions" not in names and "Directions 1" in names


def test_cameras_file_stores_R_transposed(h36m_root):
    cameras = read_cameras(h36m_root / "cameras.h5", ["S1"])
    with h5py.File(h36m_root / "cameras.h5") as hf:
        stored = hf["subject1/camera2/R"][...]
        name = "".join(chr(c) for c in hf["subject1/camera2/Name"][...])
    cam = cameras[("S1", 2)]
    np.testing.assert_array_equal(cam.R, stored.T)
    assert cam.name == name == "55011271"
    # The person stands in front of every camera, about 4-6 m away, and projects inside the 1000x1000 image.
    poses = next(iter_sequences(h36m_root, ["S1"])).poses[:, JOINTS_17]
    for index in range(1, 5):
        cam = cameras[("S1", index)]
        assert 3000 < cam.to_camera(poses)[..., 2].mean() < 6500
        uv = cam.project(poses)
        assert (uv > 0).all() and (uv < 1000).all()


def test_videopose3d_layout_matches_in_millimetres(tmp_path):
    write_videopose3d(tmp_path / "data_3d_h36m.npz", seed=3, frames=10, subjects=["S9"], actions=["Walking"])
    cameras, sequences = open_h36m(tmp_path, "videopose3d", ["S9"])
    (seq,) = list(sequences)
    expected = subject_sequences("S9", seed=3, frames=10, actions=["Walking"], takes=1)["Walking"]
    np.testing.assert_allclose(seq.poses, expected, atol=0.05)  # float32 metres -> mm
    assert sorted(cameras) == [("S9", i) for i in range(1, 5)]


def test_published_cameras_see_the_capture_area():
    cameras = published_cameras(["S1", "S9"])
    centre = np.array([0.0, 0.0, 900.0])  # world origin is the middle of the capture area, mm, z up
    for cam in cameras.values():
        assert 4000 < cam.to_camera(centre)[2] < 6500
        u, v = cam.project(centre)
        assert 0 < u < 1000 and 0 < v < 1002
        np.testing.assert_allclose(cam.R @ cam.R.T, np.eye(3), atol=1e-6)
    assert cameras[("S1", 1)].name == "54138969"


def test_missing_root(tmp_path):
    with pytest.raises(DataError, match="Human3.6M root not found"):
        open_h36m(tmp_path / "nowhere", "3d-pose-baseline", ["S1"])


def test_missing_subject_folder(tmp_path, h36m_root):
    (tmp_path / "cameras.h5").write_bytes((h36m_root / "cameras.h5").read_bytes())
    _, sequences = open_h36m(tmp_path, "3d-pose-baseline", ["S1"])
    with pytest.raises(DataError, match=r"S1/MyPoses/3D_positions: folder not found"):
        list(sequences)


def test_wrong_shape_h5(tmp_path):
    path = tmp_path / "Walking.h5"
    with h5py.File(path, "w") as hf:
        hf["3D_positions"] = np.zeros((95, 10))
    with pytest.raises(DataError, match=r"Walking.h5: 3D_positions has shape \(95, 10\), expected \(96, N\)"):
        read_sequence_file(path, "S1")


def test_truncated_h5(tmp_path, h36m_root):
    source = h36m_root / "S1" / "MyPoses" / "3D_positions" / "Walking.h5"
    path = tmp_path / "Walking.h5"
    path.write_bytes(source.read_bytes()[:1000])
    with pytest.raises(DataError, match="Walking.h5: unreadable or truncated HDF5 file"):
        read_sequence_file(path, "S1")


def test_camera_file_without_subject(tmp_path, h36m_root):
    with h5py.File(tmp_path / "cameras.h5", "w") as hf:
        hf.create_group("subject1")
    with pytest.raises(DataError, match="group subject1/camera1 missing"):
        read_cameras(tmp_path / "cameras.h5", ["S1"])


def test_actions_are_named_as_in_the_protocol():
    assert [action_of(n) for n in ("Walking 1", "SittingDown", "TakingPhoto 1", "WalkingDog", "WalkDog 1")] == \
        ["Walking", "SittingDown", "Photo", "WalkDog", "WalkDog"]
