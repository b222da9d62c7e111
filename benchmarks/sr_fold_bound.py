"""What an old face's skin folds cost in PSNR when a super-resolution output draws them: the bound under the sr target.

usage: ./aign python -m benchmarks.sr_fold_bound [--faces 600] [--seed 1] [--classifier data/models/face_classifier]
                                                 [--out metrics/bench_sr_fold_bound.json]

The stand-in's folds (Young = -1) have the renderer's pooling period, so the low-resolution input holds nothing of
them, their phase included. An output that makes a face read as old has to draw folds at a phase it can only guess,
and a guessed phase adds the folds' energy to the squared error whatever the truth is (on a face without folds the
whole drawing is error; on a face with folds a phase in quadrature with the truth's, the expected case, adds as
much). The script draws each face of the synthetic distribution twice more with the same randomness, once without
folds and once with folds at the phase a quarter period off, and scores the "oracle" outputs

    bicubic(input) + amplitude x (folds at the guessed phase)

with the pipeline's per-image PSNR (outputs quantised to 8 bits) and its attribute classifier, for a range of
amplitudes. The best any generator can do is no better than these: it must also guess where the folds go and how
deep.
"""

import argparse
import json
from pathlib import Path
from unittest import mock

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from pipeline.attributes import AttributeRates, load_classifier
from pipeline.datasets.celeba import ATTRIBUTES
from pipeline.image_metrics import psnr
from pipeline.prepare.celeba import PrepareCeleba, crop_resize
from pipeline.render.faces import average_pool
from pipeline.synthetic import celeba as synth
from pipeline.tasks.faces import SuperResolution
from stages.common import load_params

AMPLITUDES = (0.0, 0.25, 0.5, 0.75, 1.0)
JPEG_QUALITY = 90  # as the synthesizer writes its files
YOUNG = ATTRIBUTES.index("Young")


def _quarter_period_off(wrinkle):
    """`_wrinkle` with its phase moved a quarter period: folds orthogonal to the ones the face was drawn with."""
    def shifted(img, phase, *args, **kwargs):
        return wrinkle(img, phase + np.pi / 2, *args, **kwargs)
    return shifted


def _as_stored(face: np.ndarray, crop_box, size: int) -> torch.Tensor:
    """A drawn 178x218 BGR face as the pipeline sees it: JPEG, cropped, resized; (3, size, size) in [0, 1]."""
    _, encoded = cv2.imencode(".jpg", face, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    stored = crop_resize(cv2.imdecode(encoded, cv2.IMREAD_COLOR), crop_box, size, "synthetic")
    return torch.from_numpy(stored).permute(2, 0, 1).float() / 255.0


def draw_twins(rng: np.random.Generator, crop_box, size: int) -> tuple[torch.Tensor, torch.Tensor, bool]:
    """One face of the synthetic distribution, its folds at a guessed phase (a quarter period off), and whether it
    is young; the three drawings share every random draw but the folds."""
    row = synth.sample_attributes(rng)
    state = rng.bit_generator.state
    truth = _as_stored(synth.draw_face(row, rng), crop_box, size)
    drawings = {}
    for young in (1, -1):
        rng.bit_generator.state = state
        twin = row.copy()
        twin[YOUNG] = young
        with mock.patch.object(synth, "_wrinkle", _quarter_period_off(synth._wrinkle)):
            drawings[young] = _as_stored(synth.draw_face(twin, rng), crop_box, size)
    return truth, drawings[-1] - drawings[1], bool(row[YOUNG] == 1)


def bicubic_answer(truth: torch.Tensor, factor: int) -> torch.Tensor:
    """Bicubic upsampling of the renderer's input, as `SuperResolutionTask.baseline`."""
    return F.interpolate(average_pool(truth, factor), scale_factor=factor, mode="bicubic", align_corners=False)


def score_oracle(truth: torch.Tensor, bicubic: torch.Tensor, fold: torch.Tensor, classifier_dir: Path,
                 amplitudes=AMPLITUDES) -> list[dict]:
    """PSNR and classifier Young rate of bicubic + amplitude x fold, per amplitude."""
    classifier, attributes = load_classifier(classifier_dir)
    rows = []
    with torch.no_grad():
        for amplitude in amplitudes:
            output = ((bicubic + amplitude * fold).clamp(0, 1) * 255).round() / 255
            rates = AttributeRates(attributes)
            rates.update(classifier(output))
            rows.append({"amplitude": amplitude, "psnr": round(psnr(output, truth).mean().item(), 3),
                         "young_rate": rates.rate({"Young": 1})})
    return rows


def measure(faces: int, seed: int, classifier_dir: Path) -> dict:
    celeba, factor = load_params("celeba", PrepareCeleba), load_params("faces.sr", SuperResolution).factor
    rng = np.random.default_rng(seed)
    truths, folds, young = zip(*(draw_twins(rng, celeba.crop_box, celeba.size) for _ in range(faces)), strict=True)
    truth, fold = torch.stack(truths), torch.stack(folds)
    bicubic = bicubic_answer(truth, factor)
    return {"faces": faces, "seed": seed, "young_share": round(float(np.mean(young)), 4),
            "fold_energy": round(fold.pow(2).mean().item(), 6),
            "bicubic_mse": round((bicubic - truth).pow(2).mean().item(), 6),
            "oracle": score_oracle(truth, bicubic, fold, classifier_dir)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--faces", type=int, default=600)
    parser.add_argument("--seed", type=int, default=1, help="another stream than the synthetic dataset's (seed 0)")
    parser.add_argument("--classifier", type=Path, default=Path("data/models/face_classifier"))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    result = measure(args.faces, args.seed, args.classifier)
    print(f"{result['faces']} faces, {result['young_share']:.0%} young; folds' energy {result['fold_energy']:.5f}, "
          f"bicubic's squared error {result['bicubic_mse']:.5f}")
    print("amplitude  PSNR (dB)  Young rate")
    for row in result["oracle"]:
        print(f"{row['amplitude']:9.2f}  {row['psnr']:9.2f}  {row['young_rate']:10.3f}")
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
