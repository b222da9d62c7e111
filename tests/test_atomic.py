import pytest

from pipeline.atomic import atomic_outputs


def test_success_replaces_every_target(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "old.txt").write_text("old")
    with atomic_outputs(tmp_path / "out", tmp_path / "m.json") as (folder, metrics):
        folder.mkdir()
        (folder / "new.txt").write_text("new")
        metrics.write_text("{}")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["new.txt"]
    assert (tmp_path / "m.json").read_text() == "{}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json", "out"]


def test_failure_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError):
        with atomic_outputs(tmp_path / "out", tmp_path / "m.json") as (folder, metrics):
            folder.mkdir()
            (folder / "half.txt").write_text("partial")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_unwritten_output_is_an_error(tmp_path):
    with pytest.raises(RuntimeError, match="never written"):
        with atomic_outputs(tmp_path / "out"):
            pass
    assert list(tmp_path.iterdir()) == []
