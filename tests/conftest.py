"""Shared fixtures: every test that touches a lake gets its own, in a temporary directory."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from pipelines import settings as settings_module
from pipelines.lake import meta

LOCATION_VARS = ("LAKEHOUSE_CATALOG", "LAKEHOUSE_DATA_PATH", "LAKEHOUSE_LANDING", "LAKEHOUSE_LOCK_FILE")


@pytest.fixture
def lake_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """LAKEHOUSE_ROOT pointed at a fresh directory; no lake created yet."""
    monkeypatch.setenv("LAKEHOUSE_ROOT", str(tmp_path))
    for var in LOCATION_VARS:
        monkeypatch.delenv(var, raising=False)
    return tmp_path


@pytest.fixture(scope="session")
def bootstrapped_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One bootstrapped lake (every contract's tables), copied by each test that needs an empty lake."""
    root = tmp_path_factory.mktemp("template")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAKEHOUSE_ROOT", str(root))
        for var in LOCATION_VARS:
            mp.delenv(var, raising=False)
        meta.bootstrap(settings_module.load())
    return root / "lakehouse"


def copy_lake(template: Path) -> settings_module.Settings:
    """The template lake copied under the current LAKEHOUSE_ROOT, its catalog pointed at the copy's data directory
    (DuckLake keeps the data path in its metadata table)."""
    settings = settings_module.load()
    shutil.copytree(template, settings.root / "lakehouse")
    with sqlite3.connect(settings.catalog.removeprefix("sqlite:")) as catalog:
        catalog.execute("UPDATE ducklake_metadata SET value = ? WHERE key = 'data_path'", [settings.data_path])
    catalog.close()
    return settings


@pytest.fixture
def lake(lake_root: Path, bootstrapped_lake: Path) -> settings_module.Settings:
    """An empty, bootstrapped lake (schemas, meta tables, every dataset's tables) in a temporary directory.

    Bootstrapping creates some sixty tables; copying the session's template is ten times faster.
    """
    settings = copy_lake(bootstrapped_lake)
    meta.bootstrap(settings)  # a no-op on the copy; proves the copy attaches
    return settings


@pytest.fixture
def landed(lake: settings_module.Settings) -> settings_module.Settings:
    """A bootstrapped lake with three months of demo reports from two banks in its landing/."""
    from pipelines.demo.bank_loans import generate_bank_loans

    generate_bank_loans(lake.landing, ["2020-01", "2020-02", "2020-03"], n_banks=2, loans_per_bank=60, seed=7)
    return lake


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The whole-pipeline modules first: with the suite split across workers (make test runs pytest-xdist by
    file), the longest files must not be the last ones handed out."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is None)
