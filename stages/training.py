"""The train_<task> stages: one generic stage over a task plug-in (pipeline.tasks.plugin), with streams from shards,
resumable and distributed training and atomic outputs.

usage: python -m stages.train_<task> <item> <data path ...> <model dir> <metrics json> <dvclive dir> [--seed N]
                                    [--init <model dir>]
"""

import argparse
import dataclasses
import hashlib
import json
import shutil
from pathlib import Path

import torch

from pipeline import distributed
from pipeline.aign import VARIANTS, TrainConfig, seed_everything, train
from pipeline.atomic import atomic_outputs, write_json
from pipeline.batches import BatchStream
from pipeline.errors import DataError, ParamsError
from pipeline.provenance import code_digest
from pipeline.shards import read_manifest, split_urls
from pipeline.tasks.plugin import TaskPlugin
from stages.common import load_params

CHECKPOINTS = Path("data/checkpoints")


def seeded(cfg: TrainConfig, experiment: str, seed: int | None) -> tuple[TrainConfig, str]:
    """`cfg` with `seed`, and the experiment's name: `<experiment>-s<seed>` when the seed is not the params' own, so
    that its scratch checkpoints are its own."""
    if seed is None or seed == cfg.seed:
        return cfg, experiment
    return dataclasses.replace(cfg, seed=seed), f"{experiment}-s{seed}"


def fingerprint(*parts) -> str:
    """Digest of everything that determines a run (params, variant, input files)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def train_main(plugin: TaskPlugin, argv: list[str], stage: str, doc: str) -> None:
    """The train stage of `plugin`'s task: arguments as in this module's usage (`doc` is the stage's own), `stage`
    the stage's module name (its import closure is part of the checkpoint's fingerprint)."""
    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument("item", help="the experiment: a variant (" + ", ".join(VARIANTS) + ") or a memory set")
    for name in (*plugin.data, "model", "metrics", "live"):
        parser.add_argument(name, type=Path)
    parser.add_argument("--seed", type=int, help="train with this seed instead of the params' (the seed study)")
    parser.add_argument("--init", type=Path, help="start the generator from this trained model folder (the same task "
                        "and settings; its memory set may differ): a warm start")
    args = parser.parse_args(argv)
    variant = plugin.variant(args.item)
    if variant not in VARIANTS:
        raise ParamsError(f"variant {variant!r}: expected one of {', '.join(VARIANTS)}")
    data = {name: getattr(args, name) for name in plugin.data}
    settings, cfg = plugin.settings(load_params, args.item)
    cfg, experiment = seeded(cfg, f"{plugin.name}-{args.item}", args.seed)
    model_info = plugin.describe(settings, args.item, data)

    seed_everything(cfg.seed)
    task = plugin.build(settings, data)
    generator, discriminator = task.build()
    if args.init is not None:
        model_info["init"] = warm_start(generator, args.init, model_info)
    run_training(experiment, variant, task, generator, discriminator, stage=stage, shards=data["shards"],
                 memory_shards=data[plugin.memory_data], collate_inputs=plugin.collate_for(variant),
                 collate_memory=plugin.collate_memory, cfg=cfg, model_info=model_info,
                 outputs=(args.model, args.metrics, args.live))


def warm_start(generator: torch.nn.Module, model_dir: Path, model_info: dict) -> dict:
    """Load the weights of the trained model folder `model_dir` into `generator`, after checking that it was trained
    for the same task with the same settings (`model_info`, the memory set aside); returns what identifies it."""
    info_path, weights = model_dir / "model.json", model_dir / "generator.pt"
    if not info_path.is_file() or not weights.is_file():
        raise DataError(f"{model_dir}: not a trained model folder (expected model.json and generator.pt): run the "
                        "stage that trains it first")
    info = json.loads(info_path.read_text())
    for key, value in json.loads(json.dumps(model_info)).items():  # as model.json holds it: tuples are lists
        if key not in ("memory_set", "init") and info.get(key) != value:
            raise DataError(f"{info_path}: trained with {key} {info.get(key)!r}, this run has {value!r}: retrain the "
                            "warm start with the current params")
    generator.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    return {"model": str(model_dir), "memory_set": info.get("memory_set"),
            "generator_sha256": hashlib.sha256(weights.read_bytes()).hexdigest()}


def run_training(experiment: str, variant: str, task, generator, discriminator, *, stage: str, shards: Path,
                 memory_shards: Path, collate_inputs, collate_memory, cfg: TrainConfig, model_info: dict,
                 outputs: tuple[Path, Path, Path]) -> None:
    """Train, then write the generator and `model_info` (model dir), the run summary (metrics json) and the
    dvclive logs. Checkpoints and logs live in data/checkpoints/<experiment>/ until the run succeeds, so an
    interrupted run resumes when `model_info`, the params, the data and the code of module `stage` (the stage's
    import closure) are unchanged (under any number of processes).

    The params section `runtime` says how: with `processes` > 1 this stage relaunches itself under torchrun and each
    process trains on its share of every global batch of `cfg.batch_size`; rank 0 alone writes.
    """
    runtime = load_params("runtime", distributed.Runtime)
    distributed.relaunch_under_torchrun(runtime)
    world, device = distributed.start()
    if cfg.batch_size % world.size:
        raise ParamsError(f"param batch_size: {cfg.batch_size} does not split evenly over {world.size} processes; "
                          "make it a multiple of the number of processes")
    batch = cfg.batch_size // world.size
    inputs = BatchStream(split_urls(shards, "inputs", runtime.shard_url), batch, collate_inputs, shuffle=cfg.shuffle,
                         seed=cfg.seed, num_workers=cfg.num_workers)
    memory = BatchStream(split_urls(memory_shards, "memory", runtime.shard_url), batch, collate_memory,
                         shuffle=cfg.shuffle, seed=cfg.seed + 10_000, num_workers=cfg.num_workers)
    scratch = CHECKPOINTS / experiment
    digest = {"params and data": fingerprint(variant, cfg, model_info, read_manifest(shards)["splits"],
                                             read_manifest(memory_shards)["splits"]),
              "code": code_digest(stage)}
    summary = train(task, generator, discriminator, inputs, memory, cfg, variant,
                    checkpoint=scratch / "checkpoint.pt", fingerprint=digest, log_dir=scratch / "live",
                    name=f"train_{experiment}", world=world, device=device, runtime=runtime)
    distributed.stop()
    if not world.main:
        return
    with atomic_outputs(*outputs) as (model_dir, metrics, live):
        model_dir.mkdir()
        torch.save(generator.state_dict(), model_dir / "generator.pt")
        write_json(model_dir / "model.json", {"variant": variant, "log_every": cfg.log_every, **model_info})
        write_json(metrics, {"experiment": experiment, **summary})
        shutil.copytree(scratch / "live", live)
    shutil.rmtree(scratch)
    print(f"train_{experiment}: {summary['steps']} steps on {summary['processes']} x {summary['device']}, "
          f"{summary['train_samples_per_s']} samples/s, {100 * (summary['data_wait_share'] or 0):.0f}% of it "
          "waiting for data")
