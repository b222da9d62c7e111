"""DVC stages train_sr@<memory> and train_inpaint@<memory>: face AIGN with one memory set as the discriminator's
memory.

usage: python -m stages.train_faces <sr|inpaint> <memory set> <celeba shards> <memory shards> <model dir>
                                    <metrics json> <dvclive dir>
"""

import argparse
import dataclasses
from pathlib import Path

from pipeline.aign import seed_everything
from pipeline.errors import DataError
from pipeline.shards import read_manifest
from pipeline.tasks.faces import TASKS, build_task, collate_faces
from stages.common import load_params, stage_main
from stages.training import add_seed_option, run_training, seeded


@stage_main
def main(argv):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("task", choices=TASKS)
    parser.add_argument("memory_set")
    for name in ("shards", "memory", "model", "metrics", "live"):
        parser.add_argument(name, type=Path)
    add_seed_option(parser)
    args = parser.parse_args(argv)
    settings = load_params(f"faces.{args.task}", TASKS[args.task])
    train_cfg, experiment = seeded(settings.train, f"{args.task}-{args.memory_set}", args.seed)
    settings = dataclasses.replace(settings, train=train_cfg)
    if args.task == "inpaint":
        settings = settings.for_memory(args.memory_set)
    faces, memory = read_manifest(args.shards), read_manifest(args.memory)
    if memory.get("memory_set") != args.memory_set:
        raise DataError(f"{args.memory}/manifest.json: holds memory set {memory.get('memory_set')!r}, expected "
                        f"{args.memory_set!r}")
    if (memory["size"], memory["crop_box"]) != (faces["size"], faces["crop_box"]):
        raise DataError(f"{args.memory}: faces of size {memory['size']} cropped at {memory['crop_box']}, but the "
                        f"inputs in {args.shards} are {faces['size']} at {faces['crop_box']}: rerun the prepare stages")

    seed_everything(settings.train.seed)
    task = build_task(args.task, settings, faces["size"], faces["crop_box"])
    generator, discriminator = task.build()
    info = {k: v for k, v in dataclasses.asdict(settings).items() if k != "train"}
    run_training(experiment, "aign", task, generator, discriminator,
                 stage=__spec__.name, shards=args.shards,
                 memory_shards=args.memory, collate_inputs=collate_faces, collate_memory=collate_faces,
                 cfg=settings.train, determined_by=[info],
                 model_info={"task": args.task, "memory_set": args.memory_set, "size": faces["size"],
                             "crop_box": faces["crop_box"], "settings": info},
                 outputs=(args.model, args.metrics, args.live))


if __name__ == "__main__":
    main()
