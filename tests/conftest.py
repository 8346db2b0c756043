"""Shared fixtures: every test that touches a lake gets its own, in a temporary directory."""

from __future__ import annotations

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


@pytest.fixture
def lake(lake_root: Path) -> settings_module.Settings:
    """An empty, bootstrapped lake (schemas and meta tables) in a temporary directory."""
    settings = settings_module.load()
    meta.bootstrap(settings)
    return settings


@pytest.fixture
def landed(lake: settings_module.Settings) -> settings_module.Settings:
    """A bootstrapped lake with three months of demo reports from two banks in its landing/."""
    from pipelines.demo.bank_loans import generate_bank_loans

    generate_bank_loans(lake.landing, ["2020-01", "2020-02", "2020-03"], n_banks=2, loans_per_bank=60, seed=7)
    return lake
