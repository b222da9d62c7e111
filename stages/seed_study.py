"""DVC stage seed_study (seeds/dvc.yaml): the paired comparisons of every task over seeds.

usage: python -m stages.seed_study <main metrics dir> <seed metrics dir> <study json> <table md> <figure png>

Each task's own seed (<task>.train.seed) is the main pipeline's run (`<main metrics dir>/<task>-<name>.json`); every
seed of seed_study.seeds is a run of this pipeline (`<seed metrics dir>/<task>-<name>-s<seed>.json`).
"""

import argparse
import json
import os
from dataclasses import dataclass
from pathlib import Path

from pipeline.aign import TrainConfig
from pipeline.atomic import atomic_outputs, write_json
from pipeline.errors import DataError, ParamsError
from pipeline.figures import paired_differences
from pipeline.prepare.celeba import PrepareCeleba
from pipeline.seed_study import compare, pairs, table
from stages.common import load_experiments, load_params, stage_main

TRAIN_SECTIONS = {"pose": "pose.train", "sfm": "sfm.train", "sr": "faces.sr.train", "inpaint": "faces.inpaint.train"}


@dataclass
class SeedStudy:
    """params.yaml seed_study."""

    seeds: list[int]  # besides each task's own train seed

    def check(self, where: str) -> None:
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise ParamsError(f"param {where}.seeds: found {self.seeds}, expected distinct seeds")


def _load(path: Path, experiment: str) -> dict:
    if not path.is_file():
        raise DataError(f"{path}: missing, expected the metrics of {experiment}; run ./aign repro seeds/dvc.yaml")
    return json.loads(path.read_text())


@stage_main
def main(argv):
    parser = argparse.ArgumentParser(description=__doc__)
    for name in ("main", "runs", "study", "table", "figure"):
        parser.add_argument(name, type=Path)
    args = parser.parse_args(argv)
    experiments = load_experiments()
    extra = load_params("seed_study", SeedStudy).seeds
    study = {"seeds": {}, "comparisons": {}}
    memory_sets = load_params("celeba", PrepareCeleba).memory_sets
    for task, run, counterpart in pairs(experiments, memory_sets):
        own = load_params(TRAIN_SECTIONS[task], TrainConfig).seed
        if own in extra:
            raise ParamsError(f"param seed_study.seeds: holds {own}, the seed of {TRAIN_SECTIONS[task]}, whose "
                              "runs the main pipeline makes; list other seeds")
        results = {own: {f"{task}-{n}": _load(args.main / f"{task}-{n}.json", f"{task}-{n}")
                         for n in (run, counterpart)}}
        for seed in extra:
            results[seed] = {f"{task}-{n}": _load(args.runs / f"{task}-{n}-s{seed}.json", f"{task}-{n}-s{seed}")
                             for n in (run, counterpart)}
        study["seeds"][task] = sorted(results)
        study["comparisons"].setdefault(task, {})[f"{run} - {counterpart}"] = compare(task, run, counterpart,
                                                                                       results)
    panels = {f"{task}: {name}, {metric}": row for task, comparisons in study["comparisons"].items()
              for name, metrics in comparisons.items() for metric, row in metrics.items()}
    markdown = "\n".join([
        "# Seed study", "",
        "Written by the seed_study stage (`./aign repro seeds/dvc.yaml`) from `metrics/eval/` (each task's own seed) "
        "and `metrics/seeds/` (the other seeds of `seed_study.seeds`).", "",
        f"![paired differences per seed]({os.path.relpath(args.figure, args.table.parent)})", "",
        "Paired differences run - counterpart, each pair trained with the same seed (same initialisation, same data "
        "order); sd: standard deviation over seeds. Seeds per task: " + ", ".join(
            f"{task} {seeds}" for task, seeds in study["seeds"].items()) + ".", "", table(study), ""])
    with atomic_outputs(args.study, args.table, args.figure) as (study_path, table_path, figure_path):
        write_json(study_path, study)
        table_path.write_text(markdown)
        paired_differences(figure_path, panels, "Seed study: paired differences (dots: seeds; diamond: mean ± sd)")
    print(markdown)


if __name__ == "__main__":
    main()
