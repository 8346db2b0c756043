"""The machine a benchmark ran on (cores, memory, CPU model, load) and the versions that matter."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path

PACKAGES = ("duckdb", "dbt-core", "dbt-duckdb", "dagster", "dagster-dbt", "pandas", "pyarrow", "polars")


def cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor() or "?"
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")),
                platform.processor() or "?")


def memory_gib() -> float:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def machine() -> dict:
    return {"cpu_model": cpu_model(), "cores": cores(), "logical_cpus": os.cpu_count(),
            "memory_gib": round(memory_gib(), 1), "os": f"{platform.system()} {platform.release()}",
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}


def versions() -> dict:
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def describe() -> str:
    """One line, as bench/results.md has it."""
    m = machine()
    return (f"{m['cpu_model']}, {m['cores']} cores, {m['memory_gib']:.0f} GiB, {m['os']}, "
            f"Python {platform.python_version()}")
