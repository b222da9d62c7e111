import cv2
import numpy as np
import pytest
from conftest import TINY_VKITTI_SIZE

from pipeline.datasets.vkitti import VKITTI1_INTRINSICS, open_vkitti, read_depth, read_depth_cm, read_rgb
from pipeline.errors import DataError
from pipeline.geometry import relative_motion
from pipeline.synthetic.street_world import build_world, camera_pose
from pipeline.synthetic.vkitti import write_vkitti


def test_vkitti1_frames_intrinsics_and_extrinsics(vkitti_root):
    seq = open_vkitti(vkitti_root, "vkitti1", "0001", "clone")
    assert [f.index for f in seq.frames] == list(range(6))
    fx, fy, cx, cy = seq.frames[0].intrinsics
    w, h = TINY_VKITTI_SIZE
    assert fx == pytest.approx(725 * w / 1242) and fy == pytest.approx(725 * h / 375)
    assert cx == pytest.approx((620.5 + 0.5) * w / 1242 - 0.5)
    world = build_world(1, "0001", 6)
    for frame in seq.frames:
        np.testing.assert_allclose(frame.world_to_cam, camera_pose(world, frame.index), atol=1e-7)
    assert read_rgb(seq.frames[0].rgb).shape == (h, w, 3)


def test_depth_is_centimetres_with_65535_invalid(vkitti_root):
    seq = open_vkitti(vkitti_root, "vkitti1", "0002", "clone")
    cm = read_depth_cm(seq.frames[0].depth)
    metres = read_depth(seq.frames[0].depth)
    assert cm.dtype == np.uint16
    invalid = cm == 65535
    assert invalid.any() and (~invalid).any()  # sky and scene
    np.testing.assert_array_equal(metres[invalid], 0)
    np.testing.assert_allclose(metres[~invalid], cm[~invalid] / 100.0, rtol=1e-6)
    # The camera is 1.65 m above a flat road: the bottom row looks at the ground a few metres ahead.
    assert 2 < np.median(metres[-1][metres[-1] > 0]) < 15


def test_vkitti2_layout(vkitti2_root):
    seq = open_vkitti(vkitti2_root, "vkitti2", "Scene01", "clone", camera=0)
    assert len(seq.frames) == 4
    assert seq.frames[0].rgb.name == "rgb_00000.jpg" and seq.frames[0].depth.name == "depth_00000.png"
    w, _ = TINY_VKITTI_SIZE
    assert seq.frames[0].intrinsics[0] == pytest.approx(VKITTI1_INTRINSICS[0] * w / 1242, abs=1e-5)
    assert read_depth(seq.frames[1].depth).shape == read_rgb(seq.frames[1].rgb).shape[:2]
    with pytest.raises(DataError, match="no frames for camera 1"):
        open_vkitti(vkitti2_root, "vkitti2", "Scene01", "clone", camera=1)


def test_ground_truth_depth_and_motion_explain_the_next_frame(vkitti_root):
    """Warping frame t+1 into frame t with the stored depth and extrinsics reproduces frame t (static scene)."""
    seq = open_vkitti(vkitti_root, "vkitti1", "0001", "clone")
    f1, f2 = seq.frames[2], seq.frames[3]
    image1 = read_rgb(f1.rgb).astype(np.float32)
    image2 = read_rgb(f2.rgb).astype(np.float32)
    depth = read_depth(f1.depth)
    fx, fy, cx, cy = f1.intrinsics
    v, u = np.mgrid[0:depth.shape[0], 0:depth.shape[1]].astype(np.float64)
    X1 = np.stack([(u - cx) / fx * depth, (v - cy) / fy * depth, depth], axis=-1)  # X1 = d/f [x - cx; y - cy; f]

    def warp_error(M):
        X2 = X1 @ M[:3, :3].T + M[:3, 3]
        map_u = (fx * X2[..., 0] / X2[..., 2] + cx).astype(np.float32)
        map_v = (fy * X2[..., 1] / X2[..., 2] + cy).astype(np.float32)
        warped = cv2.remap(image2, map_u, map_v, cv2.INTER_LINEAR)
        h, w = depth.shape
        valid = (depth > 0) & (map_u >= 1) & (map_u < w - 2) & (map_v >= 1) & (map_v < h - 2)
        assert valid.mean() > 0.5
        # Median: at this tiny test resolution a few pixels straddle object edges and are mixtures.
        return np.median(np.abs(warped - image1).mean(axis=-1)[valid])

    M = relative_motion(f1.world_to_cam, f2.world_to_cam)
    static_error = np.median(np.abs(image2 - image1).mean(axis=-1)[depth > 0])
    assert warp_error(M) < 0.35 * static_error
    assert warp_error(np.linalg.inv(M)) > 2 * warp_error(M)  # the motion's direction matters


def test_missing_root(tmp_path):
    with pytest.raises(DataError, match="Virtual KITTI root not found"):
        open_vkitti(tmp_path / "nope", "vkitti1", "0001", "clone")


def test_wrong_layout(vkitti2_root):
    with pytest.raises(DataError, match="vkitti_1.3.1_rgb/0001/clone: folder not found"):
        open_vkitti(vkitti2_root, "vkitti1", "0001", "clone")


def _copy_world(src, dst, world="0001", variation="clone"):
    import shutil

    for folder in ("vkitti_1.3.1_rgb", "vkitti_1.3.1_depthgt"):
        shutil.copytree(src / folder / world / variation, dst / folder / world / variation)
    (dst / "vkitti_1.3.1_extrinsicsgt").mkdir(parents=True)
    name = f"{world}_{variation}.txt"
    shutil.copy(src / "vkitti_1.3.1_extrinsicsgt" / name, dst / "vkitti_1.3.1_extrinsicsgt" / name)
    return dst / "vkitti_1.3.1_extrinsicsgt" / name


@pytest.mark.parametrize("line, message", [
    ("3 1 0 0 0 0 1 0 0 0 0 1 0 0 0 0\n", r"0001_clone.txt:5: found 16 values, expected 17"),
    ("3 1 0 0 0 0 1 0 0 0 0 1 0 0 0 x 1\n", r"0001_clone.txt:5: found a non-numeric value"),
    ("3 1 0 0 0 0 1 0 0 0 0 1 0 0 0 2 1\n", r"frame 3 last row is .* expected \[0, 0, 0, 1\]"),
])
def test_malformed_extrinsics_line(tmp_path, vkitti_root, line, message):
    path = _copy_world(vkitti_root, tmp_path)
    lines = path.read_text().splitlines(keepends=True)
    lines[4] = line
    path.write_text("".join(lines))
    with pytest.raises(DataError, match=message):
        open_vkitti(tmp_path, "vkitti1", "0001", "clone")


def test_extrinsics_without_header(tmp_path, vkitti_root):
    path = _copy_world(vkitti_root, tmp_path)
    path.write_text("".join(path.read_text().splitlines(keepends=True)[1:]))
    with pytest.raises(DataError, match=r"0001_clone.txt:1: .* expected a header line starting with 'frame'"):
        open_vkitti(tmp_path, "vkitti1", "0001", "clone")


def test_stand_in_files_do_not_depend_on_the_worker_processes(tmp_path):
    files = {}
    for workers in (1, 2):
        root = tmp_path / str(workers)
        write_vkitti(root, seed=3, worlds=["0001", "0002"], variations=["clone", "fog"], frames=2,
                     size=TINY_VKITTI_SIZE, workers=workers)
        files[workers] = {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
    assert files[1] == files[2] and len(files[1]) > 8
