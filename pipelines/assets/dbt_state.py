"""What dbt already did for a lake, kept beside its catalog so the next run does not do it again (issue 9).

- The partial-parse file of the last invocation against this lake. dbt keys it on the profile, which names the
  lake, so the build-time one (made with the `compile` target) never matches a run; dbt checks every hash itself,
  so a stale file costs a full parse, never a wrong result.
- The fingerprint of each seed as last loaded by a successful build: an unchanged seed is not reloaded and the
  tests that read only seeds do not run again (38 seeds and 442 tests, about 36 s a run at scale 0.1).
- The fingerprint of each staging view, and the lake snapshot, as of the last successful build that created it and
  passed its tests (view_tests): a view whose files are unchanged and whose raw tables nothing changed since is not
  created again, nor are those tests run (a new month delivers 13 of the 29 datasets: ~190 nodes, ~5 s).

A server catalog has no such place: every run then parses in full (or reuses the newest invocation's file) and
loads every seed, as before.
"""

import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pipelines import settings as settings_module
from pipelines.lake.connection import reader, sqlite_catalog_path
from pipelines.lake.inspect import METADATA, catalog_objects
from pipelines.whole_file import write_whole

STATE_DIR_NAME = "dbt_state"
PARTIAL_PARSE = "partial_parse.msgpack"
SEED_STATE = "seeds.json"
VIEW_STATE = "views.json"


def state_dir(settings: settings_module.Settings) -> Path | None:
    catalog = sqlite_catalog_path(settings)
    if catalog is None and settings.catalog_kind == "duckdb":
        catalog = Path(settings.catalog)
    return catalog.parent / STATE_DIR_NAME if catalog is not None else None


def reuse_partial_parse(state: Path | None, target: Path) -> None:
    """Seed the invocation's target dir with the last partial-parse file; dbt itself checks that the profile, vars,
    env vars and every file's checksum still match and parses in full if not, so a stale file costs time, not
    correctness. Without one, dagster-dbt copies the build-time file (`make manifest`)."""
    candidates = [state / PARTIAL_PARSE] if state is not None and (state / PARTIAL_PARSE).exists() else sorted(
        target.parent.glob(f"dbt_models-*/{PARTIAL_PARSE}"), key=lambda p: p.stat().st_mtime, reverse=True)[:1]
    for source in candidates:
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target / PARTIAL_PARSE)


def keep_partial_parse(state: Path | None, target: Path) -> None:
    made = target / PARTIAL_PARSE
    if state is not None and made.exists():  # written once parsing is done, whatever the build's outcome
        write_whole(state / PARTIAL_PARSE, made.read_bytes())


def _is_test(node: Mapping[str, Any]) -> bool:
    return node["resource_type"] == "test"


def _relative(path: str) -> str:  # patch_path reads "lakehouse://seeds/…yml"
    return path.split("://", 1)[-1]


def _digest(project_dir: Path, files: Iterable[str], prefix: bytes = b"") -> str:
    h = hashlib.sha256(prefix)
    for name in sorted(set(files)):
        path = project_dir / name
        h.update(name.encode() + b"\0" + (path.read_bytes() if path.is_file() else b"<missing>") + b"\0")
    return h.hexdigest()


def _common(manifest: Mapping[str, Any], project_dir: Path) -> bytes:
    """What every node's fingerprint includes: dbt_project.yml, the project's macros and dbt's version."""
    from dbt.version import __version__ as dbt_version

    project = manifest["metadata"]["project_name"]
    return _digest(project_dir, ["dbt_project.yml", *(m["original_file_path"] for m in manifest["macros"].values()
                                                      if m["package_name"] == project)], dbt_version.encode()).encode()


def _own_files(node: Mapping[str, Any]) -> set[str]:
    return {node["original_file_path"], *([_relative(node["patch_path"])] if node.get("patch_path") else [])}


def only_tests(manifest: Mapping[str, Any], parents: Iterable[str]) -> dict[str, Mapping[str, Any]]:
    """The data tests every parent of which is one of ``parents``."""
    parents = set(parents)
    return {uid: node for uid, node in manifest["nodes"].items()
            if _is_test(node) and node["depends_on"]["nodes"] and set(node["depends_on"]["nodes"]) <= parents}


def seed_fingerprints(manifest: Mapping[str, Any], project_dir: Path) -> dict[str, str]:
    """A digest per seed of every file its load and its seed-only tests read, taken from disk now (the manifest
    only says which files): the CSV, the yml that configures and tests it, the files of the tests that read only
    seeds (a new or edited test on a seed makes it run), dbt_project.yml, the project's macros and dbt's version."""
    nodes = manifest["nodes"]
    seeds = [uid for uid, node in nodes.items() if node["resource_type"] == "seed"]
    files: dict[str, set[str]] = {uid: _own_files(nodes[uid]) for uid in seeds}
    for test in only_tests(manifest, seeds).values():
        for parent in test["depends_on"]["nodes"]:
            files[parent].add(test["original_file_path"])
    common = _common(manifest, project_dir)
    return {uid: _digest(project_dir, paths, common) for uid, paths in files.items()}


def read_seed_state(state: Path | None) -> dict[str, str]:
    try:
        return json.loads((state / SEED_STATE).read_text(encoding="utf-8"))["fingerprints"]  # type: ignore[operator]
    except (TypeError, OSError, ValueError, KeyError):
        return {}  # no state (fresh lake, server catalog) or an unreadable one: every seed is loaded


def unchanged_seeds(settings: settings_module.Settings, state: Path | None, manifest: Mapping[str, Any],
                    fingerprints: Mapping[str, str]) -> set[str]:
    """Seeds whose files are as they were at their last load by a successful build, and whose table the lake has
    (a lake rebuilt beside an old state loads them all). dbt's own exclusion drags along every test of an excluded
    seed unless indirect selection is cautious, so with eager selection nothing is skipped."""
    if os.environ.get("DBT_INDIRECT_SELECTION", "eager").lower() == "eager":
        return set()
    recorded = read_seed_state(state)
    same = {uid for uid, fp in fingerprints.items() if recorded.get(uid) == fp}
    if not same:
        return set()
    nodes = manifest["nodes"]
    with reader(settings) as con:
        objects = catalog_objects(con)
    return {uid for uid in same if objects.get((nodes[uid]["schema"], nodes[uid]["alias"]), ("",))[0] == "table"}


def seed_exclusions(manifest: Mapping[str, Any], seeds: Iterable[str]) -> list[str]:
    """dbt selectors for ``seeds``. With cautious indirect selection dbt leaves out with them exactly the tests that
    read only them (``only_tests``; one that also reads a model still runs with it), so the tests need not be
    named: naming each of 442 tests cost dbt 13 s of node selection a run. All seeds are one selector."""
    seeds = set(seeds)
    if seeds and seeds == {uid for uid, node in manifest["nodes"].items() if node["resource_type"] == "seed"}:
        return ["resource_type:seed"]
    return fqn_selectors(manifest, seeds)


def record_loaded_seeds(state: Path | None, fingerprints: Mapping[str, str], run_results_path: Path) -> None:
    """After a successful build: the seeds dbt loaded in it (and so tested) are recorded as loaded with the files
    they had when it started; the others keep their record (a seed edited but not selected is loaded next time)."""
    if state is None:
        return
    try:
        results = json.loads(run_results_path.read_text(encoding="utf-8"))["results"]
    except (OSError, ValueError, KeyError):
        return
    loaded = {r["unique_id"] for r in results if r["unique_id"].startswith("seed.") and r["status"] == "success"}
    recorded = read_seed_state(state)
    recorded = {uid: fp for uid, fp in recorded.items() if uid in fingerprints}  # seeds since removed
    recorded.update({uid: fingerprints[uid] for uid in loaded if uid in fingerprints})
    write_whole(state / SEED_STATE, json.dumps({"fingerprints": recorded}, indent=1, sort_keys=True).encode())


# ---------------------------------------------------------------------------------------------------------------
# staging views


def staging_views(manifest: Mapping[str, Any]) -> list[str]:
    """The view models that read only sources (the staging layer): their rows are the raw tables'."""
    nodes = manifest["nodes"]
    return [uid for uid, node in nodes.items() if node["resource_type"] == "model"
            and node["config"].get("materialized") == "view" and node["depends_on"]["nodes"]
            and all(parent.startswith("source.") for parent in node["depends_on"]["nodes"])]


def view_tests(manifest: Mapping[str, Any]) -> dict[str, dict[str, Mapping[str, Any]]]:
    """Per staging view, the tests that read it and otherwise only staging views and seeds: left out of a build in
    which all of those are, so each must be in the fingerprint and the record of every view it reads."""
    views = staging_views(manifest)
    seeds = [uid for uid, node in manifest["nodes"].items() if node["resource_type"] == "seed"]
    tests: dict[str, dict[str, Mapping[str, Any]]] = {uid: {} for uid in views}
    for test_id, test in only_tests(manifest, [*views, *seeds]).items():
        for parent in test["depends_on"]["nodes"]:
            if parent in tests:
                tests[parent][test_id] = test
    return tests


def view_fingerprints(manifest: Mapping[str, Any], project_dir: Path) -> dict[str, str]:
    """A digest per staging view of every file that defines it or its view_tests: its SQL, the yml that configures
    and tests it, its sources' yml, those tests' files, dbt_project.yml, the macros and dbt's version."""
    nodes, sources = manifest["nodes"], manifest.get("sources", {})
    common = _common(manifest, project_dir)
    fingerprints = {}
    for uid, tests in view_tests(manifest).items():
        files = _own_files(nodes[uid]) | {sources[s]["original_file_path"] for s in nodes[uid]["depends_on"]["nodes"]
                                          if s in sources}
        files |= {test["original_file_path"] for test in tests.values()}
        fingerprints[uid] = _digest(project_dir, files, common)
    return fingerprints


def read_view_state(state: Path | None) -> dict[str, dict[str, Any]]:
    try:
        return json.loads((state / VIEW_STATE).read_text(encoding="utf-8"))["views"]  # type: ignore[operator]
    except (TypeError, OSError, ValueError, KeyError):
        return {}


def changed_tables(changes: Iterable[str]) -> tuple[set[int], set[str]]:
    """The table ids and the quoted names that DuckLake's snapshot changes (``ducklake_snapshot_changes``, e.g.
    ``inserted_into_table:12,inlined_insert:11,created_table:"raw"."x"``) name."""
    ids, names = set(), set()
    for change in changes:
        for entry in (change or "").split(","):
            _kind, _, value = entry.partition(":")
            if value.isdigit():
                ids.add(int(value))
            elif value:
                names.add(value)
    return ids, names


def unchanged_views(settings: settings_module.Settings, state: Path | None, manifest: Mapping[str, Any],
                    fingerprints: Mapping[str, str]) -> set[str]:
    """Staging views whose files are as they were at the last successful build that created them and passed their
    view_tests, which the lake has, and whose raw tables no snapshot since then changed (inserted, deleted, created
    or altered): neither the view nor those tests need run again. With eager indirect selection, none (dbt's
    exclusion would drag along every test of the view)."""
    if os.environ.get("DBT_INDIRECT_SELECTION", "eager").lower() == "eager":
        return set()
    recorded = read_view_state(state)
    same = {uid for uid, fp in fingerprints.items() if recorded.get(uid, {}).get("fingerprint") == fp}
    if not same:
        return set()
    nodes, sources = manifest["nodes"], manifest.get("sources", {})
    since = min(recorded[uid]["snapshot"] for uid in same)
    with reader(settings) as con:  # the metadata catalog's own tables: a few ms, where snapshots() lists them all
        # a snapshot of this lake, not of one deleted and made again beside the state (its ids start over)
        known = dict(con.execute(
            f"SELECT snapshot_id, CAST(snapshot_time AS VARCHAR) FROM {METADATA}.ducklake_snapshot "
            "WHERE list_contains(?, snapshot_id)", [sorted({recorded[uid]["snapshot"] for uid in same})]).fetchall())
        same = {uid for uid in same if known.get(recorded[uid]["snapshot"]) == recorded[uid].get("snapshot_time")}
        objects = catalog_objects(con)
        changes = con.execute(f"SELECT snapshot_id, changes_made FROM {METADATA}.ducklake_snapshot_changes "
                              "WHERE snapshot_id > ?", [since]).fetchall()
    tables = {key: id_ for key, (kind, id_) in objects.items() if kind == "table"}
    unchanged = set()
    for uid in same:
        node = nodes[uid]
        raw = [(sources[s]["schema"], sources[s]["identifier"]) for s in node["depends_on"]["nodes"] if s in sources]
        if objects.get((node["schema"], node["alias"]), ("",))[0] != "view" or any(t not in tables for t in raw):
            continue
        ids, names = changed_tables(c for snapshot, c in changes if snapshot > recorded[uid]["snapshot"])
        if not any(tables[t] in ids or f'"{t[0]}"."{t[1]}"' in names for t in raw):
            unchanged.add(uid)
    return unchanged


def fqn_selectors(manifest: Mapping[str, Any], uids: Iterable[str]) -> list[str]:
    """dbt selectors for the nodes ``uids``; excluded with cautious indirect selection, the tests that read only them
    go with them."""
    return ["fqn:" + ".".join(manifest["nodes"][uid]["fqn"]) for uid in sorted(uids)]


def record_tested_views(settings: settings_module.Settings, state: Path | None, fingerprints: Mapping[str, str],
                        manifest: Mapping[str, Any], run_results_path: Path, snapshot: int | None) -> None:
    """After a successful build, ending at lake snapshot ``snapshot``: each staging view it created, and all of whose
    view_tests it ran and passed, is recorded with the files it had when the build started; the others keep their
    record."""
    if state is None or snapshot is None:
        return
    try:
        results = {r["unique_id"]: r["status"] for r in
                   json.loads(run_results_path.read_text(encoding="utf-8"))["results"]}
    except (OSError, ValueError, KeyError):
        return
    with reader(settings) as con:
        [(snapshot_time,)] = con.execute(f"SELECT CAST(snapshot_time AS VARCHAR) FROM {METADATA}.ducklake_snapshot "
                                         "WHERE snapshot_id = ?", [snapshot]).fetchall()
    recorded = {uid: v for uid, v in read_view_state(state).items() if uid in fingerprints}
    tests = view_tests(manifest)
    for uid, fingerprint in fingerprints.items():
        if results.get(uid) == "success" and all(results.get(t) in ("pass", "warn") for t in tests.get(uid, ())):
            recorded[uid] = {"fingerprint": fingerprint, "snapshot": snapshot, "snapshot_time": snapshot_time}
    write_whole(state / VIEW_STATE, json.dumps({"views": recorded}, indent=1, sort_keys=True).encode())
