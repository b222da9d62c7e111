"""The trained models of the default experiments are declared as DVC artifacts, as model registries expect."""

import os

from conftest import REPO


def test_every_trained_model_of_the_defaults_is_a_described_model_artifact():
    from dvc.repo import Repo

    os.environ.setdefault("DVC_NO_ANALYTICS", "1")
    with Repo(str(REPO)) as repo:
        models = {os.path.relpath(out.fs_path, REPO) for stage in repo.index.stages
                  if stage.dvcfile.relpath == "dvc.yaml" and stage.name.startswith("train_")
                  for out in stage.outs if os.path.relpath(out.fs_path, REPO).startswith("data/models/")}
        artifacts = repo.artifacts.read()["dvc.yaml"]
    assert len(models) == 16  # 3 pose, 4 sfm, 3 sr and 5 inpainting generators (with the warm-ups), the classifier
    assert {artifact.path for artifact in artifacts.values()} == models
    for name, artifact in artifacts.items():
        assert artifact.type == "model" and artifact.desc and artifact.labels, name
        assert name == os.path.basename(artifact.path), f"artifact {name} is named after its folder"
