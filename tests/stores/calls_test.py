"""envsync/stores/calls.py: what the cloud adapters share around their SDK calls."""
from __future__ import annotations

import threading

from envsync.stores.calls import bounded_pool, one_line, snake


def test_snake_names_the_sdk_method_of_an_operation() -> None:
    assert snake("GetSecretValue") == "get_secret_value"
    assert snake("ListSecretVersionIds") == "list_secret_version_ids"


def test_one_line_collapses_whitespace_and_cuts_long_bodies() -> None:
    assert one_line("  denied\n<html>\t body </html> ") == "denied <html> body </html>"
    assert one_line("x" * 301) == "x" * 300 + "…"
    assert one_line("x" * 300) == "x" * 300


def test_a_bounded_pool_keeps_order_and_its_bound() -> None:
    running, peak, lock = 0, 0, threading.Lock()
    gate = threading.Barrier(3)

    def work(item: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        if item < 3:
            gate.wait(timeout=5)  # the first three run together: the pool has room for them
        with lock:
            running -= 1
        return item * 2

    assert bounded_pool(3)(work, range(8)) == [i * 2 for i in range(8)]
    assert peak == 3
