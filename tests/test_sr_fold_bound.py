import numpy as np
import pytest
import torch

from benchmarks.sr_fold_bound import bicubic_answer, draw_twins, score_oracle
from pipeline.attributes import AttributeEnsemble, save_classifier
from pipeline.models.faces import AttributeClassifier
from pipeline.render.faces import average_pool

CROP_BOX, SIZE = (19, 39, 140, 140), 64


@pytest.fixture(scope="module")
def twins():
    rng = np.random.default_rng(3)
    return [draw_twins(rng, CROP_BOX, SIZE) for _ in range(12)]


def test_guessed_folds_are_mostly_invisible_to_the_renderer(twins):
    energy = visible = 0.0
    for truth, fold, _ in twins:
        assert truth.shape == fold.shape == (3, SIZE, SIZE)
        assert fold.pow(2).mean().item() > 1e-5, "every twin pair differs by its folds"
        energy += fold.pow(2).mean().item()
        visible += (average_pool(fold[None], 4) ** 2).mean().item()
    # what 4x4 pooling keeps of the folds: a small share (their soft edges, JPEG and the resize leave a trace)
    assert visible < 0.25 * energy
    assert {young for _, _, young in twins} == {True, False}, "the draw holds young and old faces"


def test_oracle_scores_cost_psnr_with_the_folds_amplitude(twins, tmp_path):
    torch.manual_seed(0)
    save_classifier(tmp_path / "classifier", AttributeEnsemble([AttributeClassifier(SIZE, 1, 4)]).eval(),
                    {"attributes": ["Young"], "columns": [39], "size": SIZE, "width": 4})
    truth = torch.stack([t for t, _, _ in twins])
    fold = torch.stack([f for _, f, _ in twins])
    rows = score_oracle(truth, bicubic_answer(truth, 4), fold, tmp_path / "classifier", (0.0, 1.0, 4.0))
    assert [row["amplitude"] for row in rows] == [0.0, 1.0, 4.0]
    assert rows[0]["psnr"] > rows[1]["psnr"] > rows[2]["psnr"], "folds at a guessed phase only add error"
    assert all(0.0 <= row["young_rate"] <= 1.0 for row in rows)
