"""DVC stages evaluate_sr@<memory> and evaluate_inpaint@<memory>: PSNR, SSIM and attribute rates on the test
partition, plus figures.

usage: python -m stages.evaluate_faces <sr|inpaint> <memory set> <celeba shards> <classifier dir> <model dir>
                                       <dvclive dir> <metrics json> <plots dir> <samples npz>

PSNR and SSIM compare outputs quantised to 8 bits with the ground truth: over the whole face for super-resolution
(beside the bicubic baseline), inside the hole for inpainting. A per-image PSNR is capped at 100 dB (identical
images) before averaging. Detail ratio: the mean energy of the detail that 4x4 pooling destroys (each pixel less
its block's mean) in the outputs over the same in the ground truth; 1 is as much fine detail as real faces, a blurred
guess scores near 0. Attribute rates: the share of faces the attribute classifier labels as satisfying each memory
set's filter, for the outputs, the ground truth and (super-resolution) the bicubic baseline, averaged over the
classifier's ensemble members, with their standard deviation over the members beside them
(`attribute_rate_spread`: how much of a rate is the classifier's own reading). The samples file holds
the figure's faces (input, output, truth) for the report's side-by-side grids.
"""

import argparse
from pathlib import Path

import numpy as np
import torch

from pipeline.atomic import atomic_outputs, write_json
from pipeline.attributes import AttributeRates, load_classifier
from pipeline.batches import one_pass
from pipeline.figures import face_grid, training_curves
from pipeline.image_metrics import detail_energy, psnr, ssim
from pipeline.prepare.celeba import PrepareCeleba
from pipeline.shards import read_manifest, split_urls
from pipeline.tasks.faces import PLUGINS, collate_faces
from stages.common import load_params, stage_main

FIGURE_FACES = 8
INPAINT_DETAIL_BLOCK = 4  # the detail measured inside a hole: what 4x4 pooling (the default sr renderer) destroys
PSNR_CAP = 100.0


def quantise(image: torch.Tensor) -> torch.Tensor:
    return (image.clamp(0, 1) * 255).round() / 255


def to_uint8(image: torch.Tensor) -> np.ndarray:
    """(N, 3, H, W) in [0, 1] -> (N, H, W, 3) uint8."""
    return (image.clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).numpy()


class Scores:
    """Per-image PSNR, SSIM and detail energy, averaged at the end; the detail as a ratio to the ground truth's."""

    def __init__(self, block: int):
        self.block = block
        self.psnr, self.ssim, self.detail, self.truth_detail = [], [], [], []

    def update(self, pred, truth, region=None):
        self.psnr.append(psnr(pred, truth, 1.0, region).clamp(max=PSNR_CAP))
        self.ssim.append(ssim(pred, truth, 1.0, region))
        self.detail.append(detail_energy(pred, self.block, region))
        self.truth_detail.append(detail_energy(truth, self.block, region))

    def summary(self) -> dict:
        detail = torch.cat(self.detail).mean() / torch.cat(self.truth_detail).mean()
        return {"psnr": round(torch.cat(self.psnr).mean().item(), 3),
                "ssim": round(torch.cat(self.ssim).mean().item(), 4),
                "detail_ratio": round(detail.item(), 4)}


@stage_main
def main(argv):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("task", choices=PLUGINS)
    parser.add_argument("memory_set")
    for name in ("shards", "classifier", "model", "live", "metrics", "plots", "samples"):
        parser.add_argument(name, type=Path)
    parser.add_argument("--split", choices=("test", "val"), default="test",
                        help="the faces to score: test (the stage), or val (to choose settings by hand)")
    args = parser.parse_args(argv)
    memory_sets = load_params("celeba", PrepareCeleba).memory_sets
    task, generator, info = PLUGINS[args.task].load_trained(args.model)
    classifier, attributes = load_classifier(args.classifier)
    judged = {name: wanted for name, wanted in memory_sets.items() if all(a in attributes for a in wanted)}
    if args.memory_set not in judged:
        print(f"note: the attribute classifier does not know every attribute of memory set {args.memory_set} "
              f"({memory_sets.get(args.memory_set)}); add them to faces.classifier.attributes to measure its bias")

    block = task.settings.factor if args.task == "sr" else INPAINT_DETAIL_BLOCK
    scores, baseline = Scores(block), Scores(block)
    kinds = ("output", "truth", "bicubic") if args.task == "sr" else ("output", "truth")
    rates = {kind: AttributeRates(attributes) for kind in kinds}
    shown = None
    with torch.no_grad():
        for batch in one_pass(split_urls(args.shards, args.split), 100, collate_faces):
            pred = task.predict(generator, batch)
            output = quantise(pred["face"])
            truth = batch["image"]
            region = pred.get("mask")  # inpainting: score inside the hole
            scores.update(output, truth, region)
            if args.task == "sr":
                bicubic = quantise(task.baseline(batch))
                baseline.update(bicubic, truth)
                rates["bicubic"].update(classifier(bicubic))
            rates["output"].update(classifier(output))
            rates["truth"].update(classifier(truth))
            if shown is None:
                observed = task.observe(batch)
                observed = observed[0] if isinstance(observed, tuple) else observed
                shown = {"input": to_uint8(observed[:FIGURE_FACES]), "output": to_uint8(output[:FIGURE_FACES]),
                         "truth": to_uint8(truth[:FIGURE_FACES])}
    experiment = f"{args.task}-{args.memory_set}"
    result = {
        "experiment": experiment, "task": args.task, "memory_set": args.memory_set,
        "filter": memory_sets.get(args.memory_set), "synthetic": read_manifest(args.shards)["synthetic"],
        "split": args.split, "samples": len(torch.cat(scores.psnr)),
        "region": "hole" if args.task == "inpaint" else "face",
        **scores.summary(),
        "attribute_rate": {kind: {name: r.rate(wanted) for name, wanted in judged.items()}
                           for kind, r in rates.items()},
        "attribute_rate_spread": {kind: {name: r.spread(wanted) for name, wanted in judged.items()}
                                  for kind, r in rates.items()},
    }
    if args.task == "sr":
        result["bicubic"] = baseline.summary()
    else:
        result["hole"] = task.settings.mask
    with atomic_outputs(args.metrics, args.plots, args.samples) as (metrics, plots, samples):
        write_json(metrics, result)
        plots.mkdir()
        with samples.open("wb") as stream:
            np.savez_compressed(stream, **shown)
        face_grid(plots / "faces.png", {"input": shown["input"], "output": shown["output"],
                                        "ground truth": shown["truth"]}, f"{experiment}: test faces")
        training_curves(plots / "training.png", args.live, f"{experiment} training losses", info["log_every"])
    print(f"evaluate_{experiment}: PSNR {result['psnr']:.2f} dB, SSIM {result['ssim']:.3f}"
          + (f" (bicubic {result['bicubic']['psnr']:.2f} dB)" if args.task == "sr" else "")
          + f", attribute rate {result['attribute_rate']['output'].get(args.memory_set)}")


if __name__ == "__main__":
    main()
