"""Every DVC stage depends on all the project code it runs, so `dvc repro` cannot keep results of old code."""

import os
import re
import shutil

from conftest import REPO

from pipeline.provenance import code_digest, import_closure
from stages.deps import PIPELINE_FILES, uncovered


def _stages() -> list:
    """Every stage of the project's pipeline files, resolved (foreach / matrix expanded, ${} interpolated)."""
    from dvc.repo import Repo

    os.environ.setdefault("DVC_NO_ANALYTICS", "1")
    with Repo(str(REPO)) as repo:
        return [stage for stage in repo.index.stages if stage.dvcfile.relpath in PIPELINE_FILES]


def _uncovered(stage) -> list[str]:
    """The project files `stage`'s command runs that none of its deps (a file, or a folder above it) covers."""
    match = re.search(r"python -m (stages\.\w+)", stage.cmd)
    assert match, f"stage {stage.addressing}: expected a 'python -m stages.<module>' command, found {stage.cmd!r}"
    return uncovered([os.path.relpath(dep.fs_path, REPO) for dep in stage.deps], import_closure(match.group(1), REPO))


def test_every_stage_depends_on_all_the_code_it_runs():
    stages = _stages()
    assert len(stages) > 20  # the pipeline files were found and expanded
    missing = {stage.addressing: files for stage in stages if (files := _uncovered(stage))}
    assert not missing, "stage deps miss project files the stage runs (./aign python -m stages.deps --fix): " + (
        "; ".join(f"{stage}: {', '.join(files)}" for stage, files in missing.items()))


def test_closure_follows_imports_of_every_form(tmp_path):
    package = tmp_path / "pipeline"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("from . import leaf\n")
    (package / "sub" / "leaf.py").write_text("def f():\n    from ..late import g\n")
    (package / "late.py").write_text("TABLE = 'table.json'\n")
    (package / "table.json").write_text("{}")
    (package / "unused.py").write_text("")
    (tmp_path / "stages").mkdir()
    (tmp_path / "stages" / "__init__.py").write_text("")
    (tmp_path / "stages" / "run.py").write_text("import json\nfrom pipeline.sub.leaf import f\n")
    closure = {str(p) for p in import_closure("stages.run", tmp_path)}
    assert closure == {"stages/__init__.py", "stages/run.py", "pipeline/__init__.py", "pipeline/sub/__init__.py",
                       "pipeline/sub/leaf.py", "pipeline/late.py", "pipeline/table.json"}


def test_a_stage_missing_a_dep_is_named(tmp_path, monkeypatch):
    """The check itself can fail: drop a dep the training stage needs and it names the stage and the file."""

    class Dep:
        def __init__(self, path):
            self.fs_path = str(REPO / path)

    class Stage:
        addressing = "train_pose@aign"
        cmd = "python -m stages.train_pose aign data/shards/h36m"
        deps = [Dep(p) for p in import_closure("stages.train_pose", REPO) if p.name != "reader.py"]

    assert _uncovered(Stage()) == ["pipeline/shards/reader.py"]


def test_code_digest_changes_with_any_file_of_the_closure(tmp_path):
    for folder in ("pipeline", "stages"):
        shutil.copytree(REPO / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    before = code_digest("stages.train_pose", tmp_path)
    assert code_digest("stages.train_pose", tmp_path) == before
    (tmp_path / "pipeline" / "figures.py").write_text("# not imported by training\n")
    assert code_digest("stages.train_pose", tmp_path) == before
    shards = tmp_path / "pipeline" / "shards" / "reader.py"
    shards.write_text(shards.read_text() + "\n# edited\n")
    assert code_digest("stages.train_pose", tmp_path) != before
