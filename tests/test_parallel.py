import os

import pytest

from pipeline.errors import ParamsError
from pipeline.parallel import SINGLE_THREADED, data_workers, ordered_map


@pytest.mark.parametrize("workers", [1, 2])
def test_results_come_back_in_the_items_order(workers):
    items = [str(n) for n in range(23)]  # more items than the two per worker in flight
    assert list(ordered_map(int, iter(items), workers)) == list(range(23))


def test_an_error_in_a_worker_reaches_the_caller_and_the_environment_is_restored():
    before = {name: os.environ.get(name) for name in SINGLE_THREADED}
    with pytest.raises(ValueError, match="invalid literal for int"):
        list(ordered_map(int, ["1", "2", "two", "4"], 2))
    assert {name: os.environ.get(name) for name in SINGLE_THREADED} == before


def test_workers_from_the_environment(monkeypatch):
    monkeypatch.delenv("AIGN_DATA_WORKERS", raising=False)
    assert data_workers() == len(os.sched_getaffinity(0))
    monkeypatch.setenv("AIGN_DATA_WORKERS", "3")
    assert data_workers() == 3
    monkeypatch.setenv("AIGN_DATA_WORKERS", "all")
    with pytest.raises(ParamsError, match="AIGN_DATA_WORKERS='all': expected a positive integer"):
        data_workers()
