"""Every location and knob of the lakehouse, read from the environment in one place.

The embedded default keeps everything under the project directory: a DuckLake whose catalog is a SQLite
file and whose data files are Parquet under ``lakehouse/``. Point ``LAKEHOUSE_CATALOG`` at PostgreSQL and
``LAKEHOUSE_DATA_PATH`` at ``s3://…`` to move the same code onto a server (see the README's table).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# The name the lake is attached under in every DuckDB session (Python, dbt and the CLI alike).
LAKE_ALIAS = "lake"
# Schemas of the lake, in the order data flows through them.
# seeds: parameters from regulation and published methods (dbt seeds), read by the themes like a source.
LAKE_SCHEMAS = ("raw", "seeds", "staging", "intermediate", "marts", "quarantine", "meta")
# The variables that place a lake's parts, each derived from LAKEHOUSE_ROOT when unset. A process that ran dbt has
# them in its environment (Settings.dbt_env), so whatever moves to another root (tests, the bench) unsets them.
LOCATION_VARS = ("LAKEHOUSE_CATALOG", "LAKEHOUSE_DATA_PATH", "LAKEHOUSE_LANDING", "LAKEHOUSE_LOCK_FILE",
                 "LAKEHOUSE_DUCKDB_TEMP_DIRECTORY")


# dbt's DuckDB unless LAKEHOUSE_DUCKDB_MEMORY_LIMIT says otherwise: a quarter of the machine's memory, at least 1 GiB.
# DuckDB's own default (80 %) leaves too little beside it for the Dagster processes, the readers (API, catalog) and
# the page cache the Parquet reads go through; beyond the limit DuckDB spills its joins, sorts and windows to disk
# instead of growing. The process peaks ~1 GiB above the limit (memory outside the buffer manager). At scale 1 on
# 24 GB (issue 9): fct_loans_monthly spills at every limit and cost the same CPU at 4, 6 and 12 GB; the PCAF
# attribution cost 15 % more CPU at 6 GB than at 12 GB and 45 % more at 4 GB; half the memory peaked at 12.8 GB.
DBT_MEMORY_SHARE = 0.25
MIN_MEMORY_LIMIT = 2**30


def default_memory_limit(share: float = DBT_MEMORY_SHARE) -> str:
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not POSIX: DuckDB's default would be 80 % of the same thing
        return "4GB"
    return f"{max(MIN_MEMORY_LIMIT, int(total * share)) // 2**20}MiB"


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


@dataclass(frozen=True)
class Settings:
    root: Path
    catalog: str  # DuckLake metadata catalog: "sqlite:<file>", "postgres:<libpq conninfo>" or a DuckDB file
    data_path: str  # where DuckLake writes Parquet: a directory or an object-storage URL ending in "/"
    landing: Path  # where sources deliver files
    extension_dir: Path  # DuckDB extensions, installed from the pinned duckdb-extension-* wheels
    lock_file: Path  # the single-writer lock (see pipelines.lake.lock)
    lock_timeout_s: float
    dbt_project_dir: Path
    dbt_target: str
    duckdb_threads: int | None
    duckdb_memory_limit: str | None
    duckdb_temp_directory: Path  # where DuckDB spills joins, sorts and windows beyond its memory limit
    s3: dict[str, str] = field(default_factory=dict)
    gx_max_rows: int = 1_000_000  # changed rows a Great Expectations suite validates; more are sampled
    gx_processes: int = 0  # helper processes that validate a run's suites beside its check steps (side_by_side)

    @property
    def catalog_kind(self) -> str:
        return self.catalog.split(":", 1)[0] if ":" in self.catalog else "duckdb"

    @property
    def attach_uri(self) -> str:
        return f"ducklake:{self.catalog}"

    @property
    def data_on_object_storage(self) -> bool:
        return "://" in self.data_path

    def dbt_env(self) -> dict[str, str]:
        """The environment dbt's profiles.yml reads, so dbt attaches exactly the lake Python attaches."""
        env = {
            "LAKEHOUSE_CATALOG": self.catalog,
            "LAKEHOUSE_DATA_PATH": self.data_path,
            "LAKEHOUSE_EXTENSION_DIR": str(self.extension_dir),
            "LAKEHOUSE_DBT_TARGET": self.dbt_target,
            "LAKEHOUSE_DUCKDB_THREADS": str(self.duckdb_threads or os.cpu_count() or 1),
            "LAKEHOUSE_DUCKDB_MEMORY_LIMIT": self.duckdb_memory_limit or default_memory_limit(),
            "LAKEHOUSE_DUCKDB_TEMP_DIRECTORY": str(self.duckdb_temp_directory),
            # a test runs when every model it reads is selected: building one mart's lineage does not run the
            # reconciliation of another mart that reads the same staging model (dbt's default would, and fail)
            "DBT_INDIRECT_SELECTION": os.environ.get("DBT_INDIRECT_SELECTION") or "cautious",
        }
        env.update({f"LAKEHOUSE_S3_{k.upper()}": v for k, v in self.s3.items()})
        return env


def load() -> Settings:
    root = Path(_env("LAKEHOUSE_ROOT", str(PROJECT_ROOT))).resolve()
    lake_dir = root / "lakehouse"
    data_path = _env("LAKEHOUSE_DATA_PATH", str(lake_dir / "data"))
    if not data_path.endswith("/"):
        data_path += "/"
    threads = _env("LAKEHOUSE_DUCKDB_THREADS", "")
    s3 = {
        key: os.environ[f"LAKEHOUSE_S3_{key.upper()}"]
        for key in ("endpoint", "key_id", "secret", "region", "url_style", "use_ssl")
        if os.environ.get(f"LAKEHOUSE_S3_{key.upper()}")
    }
    return Settings(
        root=root,
        catalog=_env("LAKEHOUSE_CATALOG", f"sqlite:{lake_dir / 'catalog.sqlite'}"),
        data_path=data_path,
        landing=Path(_env("LAKEHOUSE_LANDING", str(root / "landing"))),
        extension_dir=Path(_env("LAKEHOUSE_EXTENSION_DIR", str(PROJECT_ROOT / ".duckdb_extensions"))),
        lock_file=Path(_env("LAKEHOUSE_LOCK_FILE", str(lake_dir / "writer.lock"))),
        lock_timeout_s=float(_env("LAKEHOUSE_LOCK_TIMEOUT_S", "3600")),
        dbt_project_dir=PROJECT_ROOT / "dbt_project",  # code, not data: always the project's own
        dbt_target=_env("LAKEHOUSE_DBT_TARGET", "lake"),
        duckdb_threads=int(threads) if threads else None,
        duckdb_memory_limit=_env("LAKEHOUSE_DUCKDB_MEMORY_LIMIT", "") or None,
        # beside the lake, not in whatever directory a process runs in (DuckDB's default, `.tmp`): at scale 1 one
        # model spills 13-18 GB, which belongs on the lake's disk
        duckdb_temp_directory=Path(_env("LAKEHOUSE_DUCKDB_TEMP_DIRECTORY", str(lake_dir / "tmp"))),
        s3=s3,
        gx_max_rows=int(_env("LAKEHOUSE_GX_MAX_ROWS", "1000000")),
        # one core validates in the run itself; up to three more in helpers (each holds up to gx_max_rows rows)
        gx_processes=int(_env("LAKEHOUSE_GX_PROCESSES", str(min(max((os.cpu_count() or 1) - 1, 0), 3)))),
    )
