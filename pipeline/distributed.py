"""Running training on PyTorch's distributed engine: torchrun launches the processes, DDP averages the gradients.

`Runtime` is the params section `runtime`: how many processes a training stage runs on this node, where it reads
shards from, and the GPU switches. With `processes: 1` nothing here changes a run. With more, a training stage
relaunches itself under `torchrun --standalone` (one node); on several nodes the user runs `torchrun` on each
(README). Every process reads its own part of the data (`pipeline.shards.open_shards`), rank 0 alone writes
checkpoints, logs and outputs.
"""

import os
import sys
from dataclasses import dataclass

import torch
import torch.distributed as dist

from pipeline.errors import ParamsError


@dataclass
class Runtime:
    processes: int = 1  # training processes on this node (DDP when > 1; one per GPU on a GPU node)
    shard_url: str = "{path}"  # how training opens a shard; {path} is its local path (e.g. "pipe:cat {path}")
    compile: bool = False  # torch.compile the generator and the discriminator
    channels_last: bool = True  # channels-last layout for the tasks whose networks convolve images

    def check(self, where: str = "runtime") -> None:
        if self.processes < 1:
            raise ParamsError(f"param {where}.processes: found {self.processes}, expected a positive integer")
        if "{path}" not in self.shard_url:
            raise ParamsError(f"param {where}.shard_url: found {self.shard_url!r}, expected a template containing "
                              "{path}, e.g. '{path}' or 'pipe:cat {path}'")


def under_torchrun() -> bool:
    return "LOCAL_RANK" in os.environ and "WORLD_SIZE" in os.environ


def relaunch_under_torchrun(runtime: Runtime) -> None:
    """Replace this process (a stage run as `python -m stages.<name> args`) by
    `torchrun --standalone --nproc-per-node N -m stages.<name> args` when `runtime.processes` asks for more than
    one process and this is not already one of torchrun's."""
    if runtime.processes == 1 or under_torchrun():
        return
    spec = getattr(sys.modules["__main__"], "__spec__", None)
    if spec is None:
        raise ParamsError(f"param runtime.processes: {runtime.processes} processes need the stage started as "
                          "`python -m stages.<name>` (or under torchrun)")
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               f"--nproc-per-node={runtime.processes}", "-m", spec.name, *sys.argv[1:]]
    print(f"{spec.name}: relaunching under torchrun with {runtime.processes} processes", flush=True)
    os.execv(sys.executable, command)


@dataclass(frozen=True)
class World:
    """This process's place among the training processes (rank 0 of 1 without torchrun)."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1


SINGLE = World()


def start() -> tuple[World, torch.device]:
    """Join the process group torchrun set up (nccl with one GPU per process, gloo on the CPU); pick the device."""
    if not under_torchrun() or int(os.environ["WORLD_SIZE"]) == 1:
        return SINGLE, torch.device("cuda" if torch.cuda.is_available() else "cpu")
    world = World(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ["LOCAL_RANK"]))
    if not torch.cuda.is_available():
        if not dist.is_initialized():
            dist.init_process_group("gloo")
        return world, torch.device("cpu")
    device = torch.device("cuda", world.local_rank)
    torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl", device_id=device)
    return world, device


def stop() -> None:
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def wrap(module: torch.nn.Module, world: World, device: torch.device, *, sync_buffers: bool) -> torch.nn.Module:
    """DDP around `module` in a distributed run, the module itself otherwise.

    `sync_buffers` copies rank 0's buffers (batch-norm statistics) to every rank at each forward; a discriminator,
    called on the real and the fake batch before one backward, must keep its buffers per process after the start:
    syncing between the two calls would overwrite spectral-norm vectors autograd still needs.
    """
    if not world.distributed:
        return module
    return torch.nn.parallel.DistributedDataParallel(
        module, device_ids=[device.index] if device.type == "cuda" else None, forward_sync_buffers=sync_buffers)


def mean_over_ranks(values: dict[str, float], device: torch.device) -> dict[str, float]:
    """Each value averaged over the ranks (every rank must call it at the same step); `values` itself alone."""
    if not dist.is_initialized() or not values:
        return values
    keys = sorted(values)
    tensor = torch.tensor([values[k] for k in keys], dtype=torch.float64, device=device)
    dist.all_reduce(tensor)
    return dict(zip(keys, (tensor / dist.get_world_size()).tolist(), strict=True))
