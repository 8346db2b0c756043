"""DuckDB extensions from the pinned ``duckdb-extension-<name>`` wheels, never from the network.

The wheels carry the extension binary; installing it from the file puts it into the project's
``extension_directory`` where every connection (ours, dbt's, an analyst's ``duckdb`` shell) finds it.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import duckdb

from pipelines.settings import Settings

# Extension name -> the name DuckDB registers it under once installed.
REQUIRED = {"ducklake": "ducklake", "sqlite": "sqlite_scanner", "postgres_scanner": "postgres_scanner",
            "httpfs": "httpfs"}


def wheel_binary(name: str) -> Path:
    module = importlib.import_module(f"duckdb_extension_{name}")
    path = Path(module.__file__).parent / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: duckdb-extension-{name} must have the same version as duckdb ({duckdb.__version__})"
        )
    return path


def _base_config(settings: Settings) -> dict[str, object]:
    """DuckDB config that finds extensions in the project directory and never downloads one."""
    config: dict[str, object] = {
        "extension_directory": str(settings.extension_dir),
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": True,
        "temp_directory": str(settings.duckdb_temp_directory),
    }
    if settings.duckdb_threads:
        config["threads"] = settings.duckdb_threads
    if settings.duckdb_memory_limit:
        config["memory_limit"] = settings.duckdb_memory_limit
    return config


def connection_config(settings: Settings) -> dict[str, object]:
    """The config of a lake session (the extensions installed: one of its settings loads sqlite)."""
    # DuckDB's sqlite scanner opens the SQLite catalog once per parallel scan, and each open parses the schema of
    # every catalog table: single-threaded scans of the (small) catalog tables cut a DuckLake query's metadata cost
    # from ~45 to ~15 ms, which every dbt test and lake session pays (issue 9). Global, because DuckLake queries its
    # catalog on a connection of its own.
    return _base_config(settings) | {"sqlite_disable_multithreaded_scans": True}


def missing(settings: Settings) -> list[str]:
    platform_dir = settings.extension_dir / f"v{duckdb.__version__}"
    installed = {p.name.removesuffix(".duckdb_extension") for p in platform_dir.glob("*/*.duckdb_extension")}
    return [name for name, registered in REQUIRED.items() if registered not in installed]


def install(settings: Settings) -> list[str]:
    """Install every required extension that is not there yet; returns the names installed."""
    todo = missing(settings)
    if todo:
        settings.extension_dir.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(config=_base_config(settings))
        try:
            for name in todo:
                con.execute(f"INSTALL '{wheel_binary(name)}'")
        finally:
            con.close()
    return todo


if __name__ == "__main__":
    from pipelines import settings as settings_module

    done = install(settings_module.load())
    print(f"duckdb extensions: installed {', '.join(done)}" if done else "duckdb extensions: up to date")
