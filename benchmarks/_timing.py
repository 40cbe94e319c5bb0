"""Small helpers shared by the benchmark scripts."""
from __future__ import annotations

import statistics
import time
from typing import Callable


def best_and_median(func: Callable[[], object], runs: int = 5) -> tuple[float, float]:
    """Seconds: the best and the median of `runs` calls."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)
