"""A rich progress bar over the units a stage walks through (sequences, images), counting samples for the rate."""

import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


class StageProgress:
    """`step()` advances the bar by one unit; `advance(n)` counts written samples for the throughput line.

    The rate column shows samples/s once samples are counted, and units/s (files, frames, faces) before that.
    """

    def __init__(self, description: str, total: int | None, console: Console | None = None):
        self.console = console or Console(stderr=True)
        self.samples = 0
        self._steps = 0
        self.start = time.perf_counter()
        self._progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[rate]:.0f}/s"), TimeElapsedColumn(), TimeRemainingColumn(),
            console=self.console, transient=False, auto_refresh=self.console.is_terminal,
        )
        self._task = self._progress.add_task(description, total=total, rate=0.0)

    def __enter__(self):
        self._progress.start()
        return self

    def __exit__(self, exc_type, *exc):
        if exc_type is not None:  # a failed stage ends with its error line alone
            self._progress.live.transient = True
        self._progress.stop()

    def advance(self, n: int = 1) -> None:
        self.samples += n

    def step(self, n: int = 1) -> None:
        self._steps += n
        per_second = self.rate if self.samples else self._steps / max(self.elapsed, 1e-9)
        self._progress.update(self._task, advance=n, rate=per_second)

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    @property
    def rate(self) -> float:
        return self.samples / max(self.elapsed, 1e-9)
