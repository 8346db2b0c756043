"""Shared fixtures: every test that touches a lake gets its own, in a temporary directory."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from pipelines import settings as settings_module
from pipelines.lake import meta
from pipelines.lake.connection import point_copied_catalog_at_its_data
from pipelines.settings import LOCATION_VARS, PROJECT_ROOT


@pytest.fixture(scope="session")
def project_manifest() -> dict:
    """The project's manifest, which `make manifest` compiles (against an empty in-memory stand-in for the lake),
    so every model carries its compiled SQL."""
    manifest = json.loads((PROJECT_ROOT / "dbt_project" / "target" / "manifest.json").read_text(encoding="utf-8"))
    assert all(n.get("compiled_code") for n in manifest["nodes"].values() if n["resource_type"] == "model"), \
        "the manifest was parsed, not compiled: run `make manifest`"
    return manifest


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


@contextmanager
def located_at(root: Path) -> Iterator[pytest.MonkeyPatch]:
    """LAKEHOUSE_ROOT, DAGSTER_HOME and the OpenLineage file under ``root``; the location variables unset."""
    with pytest.MonkeyPatch.context() as mp:
        for var in LOCATION_VARS:  # never the developer's own lake
            mp.delenv(var, raising=False)
        mp.setenv("LAKEHOUSE_ROOT", str(root))
        (root / "dagster").mkdir(exist_ok=True)
        # the project's instance configuration, as `make run` and the UI have it (its event log storage)
        shutil.copy(settings_module.PROJECT_ROOT / ".dagster" / "dagster.yaml", root / "dagster")
        mp.setenv("DAGSTER_HOME", str(root / "dagster"))
        mp.setenv("LAKEHOUSE_OPENLINEAGE_FILE", str(root / "openlineage.jsonl"))
        yield mp


@pytest.fixture(scope="session")
def pipeline_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`make run`'s entry point once for the whole test session: two months of every demo source at a small
    scale, ingested, built, checked, published and catalogued. The modules that need a pipeline-built lake copy it
    (``copy_pipeline``); with the suite split over workers, the first worker builds it and the others wait for it,
    instead of each module running the pipeline again."""
    from filelock import FileLock

    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    shared = tmp_path_factory.getbasetemp().parent if run_id else tmp_path_factory.getbasetemp()
    root = shared / f"pipeline-{run_id or 'single'}"
    with FileLock(str(shared / f"pipeline-{run_id or 'single'}.lock")):
        if not (root / "built").exists():
            shutil.rmtree(root, ignore_errors=True)
            root.mkdir()
            with located_at(root):
                from pipelines import run
                from pipelines.demo.sources import generate_all

                settings = settings_module.load()
                generate_all(settings.landing, scale=0.002, seed=7, months=["2020-11", "2020-12"])
                assert run.main([]) == 0
            (root / "built").touch()
    return root


def copy_pipeline(template: Path, root: Path) -> None:
    """The pipeline-built lake, its landing files, Dagster history and lineage events, copied under ``root``."""
    for name in ("landing", "dagster"):
        shutil.copytree(template / name, root / name, dirs_exist_ok=True)
    shutil.copy2(template / "openlineage.jsonl", root / "openlineage.jsonl")
    with located_at(root):
        copy_lake(template / "lakehouse")


def copy_lake(template: Path) -> settings_module.Settings:
    """The template lake copied under the current LAKEHOUSE_ROOT, its catalog pointed at the copy's data directory
    (DuckLake keeps the data path in its metadata table)."""
    settings = settings_module.load()
    shutil.copytree(template, settings.root / "lakehouse")
    point_copied_catalog_at_its_data(settings)
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


# The first test to ask for the session's pipeline-built lake pays for building it (the whole pipeline, every
# theme) or waits for the worker building it: more than a test's 600 s on a busy 2-core machine.
PIPELINE_TEMPLATE_TIMEOUT_S = 1500


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The whole-pipeline modules first: with the suite split across workers (make test runs pytest-xdist by
    file), the longest files must not be the last ones handed out."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is None)
    for item in items:
        if "pipeline_template" in getattr(item, "fixturenames", ()) and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(PIPELINE_TEMPLATE_TIMEOUT_S))
