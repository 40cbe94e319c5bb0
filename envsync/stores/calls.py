"""What every cloud adapter does around its SDK's calls: a bounded thread pool, the SDK
method of an API operation, and error text cut to one line."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, Callable, Iterable

Pool = Callable[[Callable[[Any], Any], Iterable[Any]], list[Any]]


def pool_map(func: Callable[[Any], Any], items: Iterable[Any], workers: int) -> list[Any]:
    """`map` on a bounded thread pool (in order); inline for a single item."""
    items = list(items)
    if len(items) <= 1:
        return [func(i) for i in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        return list(pool.map(func, items))


def bounded_pool(workers: int) -> Pool:
    """`pool_map` with an adapter's own number of concurrent requests."""
    return partial(pool_map, workers=workers)


def snake(operation: str) -> str:
    """The SDK method of an API operation: `GetSecretValue` -> `get_secret_value`."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")


def one_line(text: str, limit: int = 300) -> str:
    """Error bodies can be whole XML or HTML pages (proxies): keep one short line."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[:limit] + "…"
