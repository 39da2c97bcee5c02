"""python -m bench.startup [--runs N]: how long commands take before they do anything.

Each command runs N times as a fresh process against a small SQLite database (the shipped directory and
both campaigns); the table shows the fastest and the median wall time, the median CPU time (user +
system) of the process, and the machine's load while measuring. On a shared, busy machine wall time
mostly measures the others; CPU time is what the command itself costs. `--source DIR` runs the
package found in DIR instead (another checkout), for a before/after comparison.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

COMMANDS: list[tuple[str, list[str], float]] = [
    ("broadcaster --help", ["--help"], 0.5),
    ("broadcaster campaign list", ["campaign", "list"], 1.0),
    ("broadcaster status", ["status"], 0.0),
    ("broadcaster user list", ["user", "list"], 0.0),
]


def _prepare(folder: Path, env: dict[str, str]) -> None:
    """A database with the shipped directory and campaigns, made by the command itself."""
    from broadcaster.examples import example_campaigns
    from broadcaster.settings import shipped_dir

    config = shipped_dir("config")
    directory = config / "directory"
    steps = [
        ["db", "upgrade"],
        ["user", "add", "bench", "--role", "drafter", "--no-password"],
        ["directory", "import", "areas", str(directory / "areas.csv")],
        ["directory", "import", "issuers", *map(str, sorted((config / "issuers").glob("*.yaml")))],
        ["directory", "import", "agencies", *map(str, sorted(directory.glob("agencies-*.csv")))],
        ["directory", "import", "stations", str(directory / "stations.csv")],
        ["directory", "import", "pages", str(directory / "pages.csv")],
        [
            "directory",
            "import",
            "subscribers",
            str(directory / "subscribers-tay-ninh.csv"),
            "--list",
            "thue-bao-tay-ninh",
        ],
        [
            "directory",
            "import",
            "subscribers",
            str(directory / "subscribers-binh-phuoc.csv"),
            "--list",
            "thue-bao-binh-phuoc",
        ],
        ["campaign", "add", *map(str, example_campaigns()), "--as", "bench"],
    ]
    for step in steps:
        subprocess.run(
            [sys.executable, "-m", "broadcaster", *step], env=env, cwd=folder, check=True, capture_output=True
        )


def _time(arguments: list[str], env: dict[str, str], folder: Path, runs: int) -> tuple[list[float], list[float]]:
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "broadcaster", *arguments], env=env, cwd=folder, check=True, capture_output=True
        )
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return walls, cpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--source", type=Path, help="run the broadcaster package found in this folder")
    options = parser.parse_args()
    runs = options.runs
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as name:
        folder = Path(name)
        env = {
            **{key: value for key, value in os.environ.items() if not key.startswith("BROADCASTER_")},
            "BROADCASTER_DATABASE_URL": f"sqlite:///{folder / 'broadcaster.db'}",
            "BROADCASTER_OUTPUT_DIR": str(folder / "out"),
        }
        if options.source is not None:
            env["PYTHONPATH"] = str(options.source.resolve())
        _prepare(folder, env)
        source = f", package from {options.source}" if options.source else ""
        table = Table(title=f"start-up: {runs} fresh processes each (python {sys.version.split()[0]}){source}")
        for column in ("command", "fastest s", "median s", "median CPU s", "target s", "load average"):
            table.add_column(column, justify="right" if column != "command" else "left")
        for label, arguments, target in COMMANDS:
            walls, cpus = _time(arguments, env, folder, runs)
            load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
            table.add_row(
                label,
                f"{min(walls):.3f}",
                f"{statistics.median(walls):.3f}",
                f"{statistics.median(cpus):.3f}",
                f"{target:g}" if target else "—",
                load,
            )
        Console(width=160).print(table)


if __name__ == "__main__":
    main()
