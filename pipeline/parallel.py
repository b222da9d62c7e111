"""Ordered parallel map for the data stages: independent work items (a world, a sequence) in worker processes.

The results come back in the items' order, so the outputs are byte-identical whatever the number of workers; that
number is therefore not a param. It is the CPUs this process may use, or `AIGN_DATA_WORKERS` when set (1: no
worker processes).
"""

import contextlib
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator

from pipeline.errors import ParamsError

WORKERS_VARIABLE = "AIGN_DATA_WORKERS"


def data_workers() -> int:
    """Worker processes for the data stages."""
    value = os.environ.get(WORKERS_VARIABLE)
    if value is None:
        return len(os.sched_getaffinity(0))
    if not value.isdigit() or int(value) < 1:
        raise ParamsError(f"environment variable {WORKERS_VARIABLE}={value!r}: expected a positive integer")
    return int(value)


def ordered_map(fn: Callable, items: Iterable, workers: int) -> Iterator:
    """fn(item) for every item, in order. With `workers` > 1 the calls run in that many spawned, single-threaded
    processes (`fn` and the items must pickle), at most two per worker in flight, so a long stream of items is never
    held whole."""
    if workers <= 1:
        yield from map(fn, items)
        return
    with _environment(SINGLE_THREADED):  # read by the numerical libraries as each worker imports them
        pool = multiprocessing.get_context("spawn").Pool(workers)
    pending = deque()
    try:
        for item in items:
            pending.append(pool.apply_async(fn, (item,)))
            if len(pending) >= 2 * workers:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()
        pool.close()
    finally:
        pool.terminate()
        pool.join()


SINGLE_THREADED = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@contextlib.contextmanager
def _environment(values: dict[str, str]):
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                del os.environ[name]
            else:
                os.environ[name] = value
