"""Parse + rewrite of a 100,000-line .env, against python-dotenv's dotenv_values."""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from dotenv import dotenv_values

sys.path.insert(0, str(Path(__file__).parent))
from _timing import best_and_median  # noqa: E402

from envsync import dotenv_file  # noqa: E402

LINES = 100_000


def make_file(path: Path) -> None:
    rows = []
    for i in range(LINES):
        kind = i % 10
        if kind == 0:
            rows.append(f"# section {i}")
        elif kind == 1:
            rows.append("")
        elif kind == 2:
            rows.append(f'export KEY_{i}="quoted value {i} with # hash"')
        elif kind == 3:
            rows.append(f"KEY_{i}='single {i}'")
        else:
            rows.append(f"KEY_{i}=plain-value-{i}  # comment")
    path.write_text("\n".join(rows) + "\n")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ".env"
        make_file(path)
        size = path.stat().st_size / 1e6

        def envsync_round_trip() -> None:
            document = dotenv_file.load(path)
            document.set("KEY_5", "changed")
            dotenv_file.write(document, path)

        def envsync_parse_only() -> None:
            dotenv_file.load(path)

        ours_best, ours_median = best_and_median(envsync_round_trip)
        parse_best, _ = best_and_median(envsync_parse_only)
        theirs_best, theirs_median = best_and_median(lambda: dotenv_values(path, interpolate=False))
        interpolating, _ = best_and_median(lambda: dotenv_values(path), runs=1)
    print(f"file: {LINES:,} lines, {size:.1f} MB")
    print(f"envsync parse only:              best {parse_best:.3f} s")
    print(f"envsync parse + edit + rewrite:  best {ours_best:.3f} s  median {ours_median:.3f} s")
    print(f"python-dotenv dotenv_values(interpolate=False): best {theirs_best:.3f} s  median {theirs_median:.3f} s")
    print(f"python-dotenv dotenv_values (default, interpolating; quadratic): {interpolating:.1f} s")
    print(f"ratio (envsync parse / dotenv_values(interpolate=False), best): {parse_best / theirs_best:.2f}x")
    print(f"ratio (envsync round trip / dotenv_values(interpolate=False), best): {ours_best / theirs_best:.2f}x")


if __name__ == "__main__":
    main()
