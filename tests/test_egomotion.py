"""The egomotion evaluation on KITTI odometry: SfMLearner's snippet ATE, the stage's outputs and its errors."""

import json
import shutil

import numpy as np
import pytest
import torch
from conftest import assert_no_outputs, run_stage_error

from pipeline.datasets.kitti_odometry import odometry_sequence
from pipeline.tasks.sfm import SfmModel, SfmTask
from stages.evaluate_egomotion import main, snippet_errors
from stages.synthesize import main as synthesize

SIZE = (48, 16)


@pytest.fixture(scope="module")
def odometry_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("odometry") / "kitti"
    from pipeline.synthetic.kitti_odometry import write_kitti_odometry_root

    write_kitti_odometry_root(root, seed=4, sequences=["09", "10"], frames=8, size=(96, 32))
    return root


@pytest.fixture
def model_dir(tmp_path):
    """A freshly initialised sfm model folder as train_sfm writes it (its motion starts at zero)."""
    folder = tmp_path / "sfm-aign"
    folder.mkdir()
    cfg = SfmModel(width=8, disc_width=8)
    torch.manual_seed(0)
    generator, _ = SfmTask(cfg).build()
    torch.save(generator.state_dict(), folder / "generator.pt")
    info = {"variant": "aign", "log_every": 1, "task": "sfm", "model": cfg.__dict__, "input_size": list(SIZE)}
    (folder / "model.json").write_text(json.dumps(info))
    return folder


def _true_motions(root, name):
    poses = odometry_sequence(root, name).poses
    return np.stack([np.linalg.inv(poses[k + 1]) @ poses[k] for k in range(len(poses) - 1)])


def test_snippet_ate_is_zero_for_the_truth_at_any_scale(odometry_root):
    true = _true_motions(odometry_root, "09")
    scaled = true.copy()
    scaled[:, :3, 3] *= 3.0  # monocular motion: right up to one scale
    ates, lengths = snippet_errors(scaled, true, 5)
    assert len(ates) == 8 - 5 + 1 and max(ates) < 1e-9
    assert all(length > 0.5 for length in lengths)  # the stand-in drives about a metre a frame
    standing = true.copy()
    standing[:, :3, 3] = 0  # no scale explains a camera that does not move
    assert min(snippet_errors(standing, true, 5)[0]) > 0.5


def test_stage_writes_ate_per_sequence_and_a_trajectory_figure(stage_dir, odometry_root, model_dir, capsys):
    stage_dir(kitti_odometry={"root": str(odometry_root), "sequences": ["09", "10"], "camera": 2, "snippet": 5})
    main(["aign", str(model_dir), "ego.json", "plots"])
    result = json.loads(open("ego.json").read())
    assert result["synthetic"] is True and result["snippets"] == 2 * (8 - 5 + 1)
    assert set(result["sequences"]) == {"09", "10"}
    for seq in result["sequences"].values():
        # A model that has not learnt to move explains nothing: its ATE is about the spread of the true snippet.
        assert seq["snippets"] == 4 and seq["frames"] == 8 and 0 < seq["ate_mean_m"] < seq["gt_snippet_length_m"]
    assert open("plots/trajectory.png", "rb").read(4) == b"\x89PNG"
    assert "ATE" in capsys.readouterr().out


def test_sequence_without_poses_is_refused(stage_dir, odometry_root, model_dir, tmp_path, capsys):
    root = tmp_path / "no-poses"
    shutil.copytree(odometry_root / "sequences", root / "sequences")
    stage_dir(kitti_odometry={"root": str(root), "sequences": ["09"]})
    line = run_stage_error(main, ["aign", str(model_dir), "ego.json", "plots"], capsys)
    assert "sequence 09 has no poses/09.txt" in line
    assert_no_outputs("ego.json", "plots")


def test_too_short_sequence_is_refused(stage_dir, odometry_root, model_dir, capsys):
    stage_dir(kitti_odometry={"root": str(odometry_root), "sequences": ["09"], "snippet": 9})
    line = run_stage_error(main, ["aign", str(model_dir), "ego.json", "plots"], capsys)
    assert "sequence 09 has 8 frames, expected at least kitti_odometry.snippet (9)" in line


def test_synthesize_stage_writes_the_odometry_layout(stage_dir, capsys):
    stage_dir(synthetic={"kitti_odometry": {"seed": 1, "sequences": ["09"], "frames": 3, "size": [96, 32]}})
    synthesize(["kitti_odometry", "odometry"])
    seq = odometry_sequence("odometry", "09")
    assert len(seq.images) == 3 and seq.poses.shape == (3, 4, 4)
