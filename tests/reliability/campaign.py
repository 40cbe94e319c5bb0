"""How big the reliability campaigns run.

By default at CI size: every store x layout, and in the kill test every command and every
kill phase, but few rounds of each (the suite must stay within minutes on 2 cores).
`ENVSYNC_CAMPAIGN=full` runs the campaigns of docs/reliability.md (50 kills per store x
layout on 1,000 keys, 100 race rounds per store x layout, 5,000 fuzz examples per
property). Each figure can still be set on its own (ENVSYNC_KILLS, ENVSYNC_RACE_ROUNDS, ...),
which wins over both.
"""
from __future__ import annotations

import os
from pathlib import Path

FULL = os.environ.get("ENVSYNC_CAMPAIGN", "ci") == "full"
if os.environ.get("ENVSYNC_CAMPAIGN", "ci") not in ("ci", "full"):
    raise ValueError(f"ENVSYNC_CAMPAIGN must be 'ci' or 'full', not {os.environ['ENVSYNC_CAMPAIGN']!r}")


def size(variable: str, ci: int, full: int) -> int:
    """`$variable` if set, else the full campaign's figure or CI's."""
    given = os.environ.get(variable)
    return int(given) if given else (full if FULL else ci)


def report_path(variable: str) -> Path | None:
    """The report file named by `$variable`; under pytest-xdist one per worker
    (`faults.gw0.json`), since each worker tallies only the tests it ran."""
    given = os.environ.get(variable)
    if not given:
        return None
    path = Path(given)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return path.with_name(f"{path.stem}.{worker}{path.suffix}") if worker else path
