"""What has been delivered to landing/, and whether the lake already holds it.

Shared by the landing sensors, the delivery schedules and `make run`: a partition's delivery is
fingerprinted by its files' names, sizes and modification times (cheap enough to run every 30 s), and
compared with the lake by content hash (meta.ingestion_log), so a new Dagster instance does not reload
history and an identical re-delivery is a no-op.
"""

from __future__ import annotations

import fnmatch
import hashlib
from pathlib import Path

from pipelines.contracts.model import Contract
from pipelines.ingest.load import SNAPSHOT_KEY, in_progress, partition_files, sha256
from pipelines.lake.connection import lake_exists, reader
from pipelines.settings import Settings


def landed_files(settings: Settings) -> list[Path]:
    """Every delivered file under landing/, except those set aside in landing/rejected/."""
    landing = settings.landing
    if not landing.exists():
        return []
    return sorted(p for p in landing.rglob("*")
                  if p.is_file() and not in_progress(p) and p.relative_to(landing).parts[0] != "rejected")


def landed_partitions(contract: Contract, settings: Settings, valid_keys: set[str] | None = None
                      ) -> dict[str | None, str]:
    """Partition key (None for a snapshot dataset) -> fingerprint of the files delivered for it."""
    found: dict[str | None, list[str]] = {}
    if contract.partition_column is None:
        paths = [(None, p) for p in partition_files(contract, settings.landing, None)]
    else:
        prefix, _, rest = contract.landing_pattern.partition("{partition}")
        base = settings.landing / prefix
        paths = [(p.relative_to(base).parts[0], p) for p in base.glob("*" + rest)] if base.exists() else []
    for key, path in paths:
        if path.is_file() and not in_progress(path) and (valid_keys is None or key in valid_keys):
            stat = path.stat()
            found.setdefault(key, []).append(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return {key: hashlib.sha256("\n".join(sorted(files)).encode()).hexdigest()[:16] for key, files in found.items()}


def matches(contract: Contract, relative: Path) -> bool:
    return fnmatch.fnmatch(relative.as_posix(), contract.landing_pattern.format(partition="*"))


def unknown_files(contracts: list[Contract], settings: Settings, valid_keys: dict[str, set[str]]
                  ) -> dict[Path, str]:
    """Delivered files no contract accepts -> the reason (no dataset has that path, or no such partition)."""
    unknown = {}
    for path in landed_files(settings):
        relative = path.relative_to(settings.landing)
        owners = [c for c in contracts if matches(c, relative)]
        if not owners:
            unknown[path] = "unknown_dataset: no data contract's landingPattern matches this path"
            continue
        for contract in owners:
            if contract.partition_column is not None:
                prefix = contract.landing_pattern.partition("{partition}")[0]
                key = relative.relative_to(prefix).parts[0]
                if key not in valid_keys[contract.granularity]:
                    unknown[path] = (f"invalid_partition: {key!r} is not a {contract.granularity} partition of "
                                     f"{contract.name}")
    return unknown


def _relative(contract: Contract, source_file: str) -> str:
    """The part of a file's path that the landing pattern names: the same wherever landing/ is mounted."""
    return "/".join(Path(source_file).parts[-len(Path(contract.landing_pattern).parts):])


def already_loaded(contract: Contract, settings: Settings, partition: str | None) -> bool:
    """Whether the lake's latest load of this partition was of exactly the files now in landing/."""
    if not lake_exists(settings):
        return False
    # paths relative to landing/, so a lake loaded from another checkout or landing mount still matches
    delivered = {(_relative(contract, str(p)), sha256(p))
                 for p in partition_files(contract, settings.landing, partition)}
    with reader(settings) as con:
        if not con.execute("SELECT count(*) FROM information_schema.tables WHERE table_catalog = 'lake' "
                           "AND table_schema = 'meta' AND table_name = 'ingestion_log'").fetchone()[0]:
            return False
        loaded = {(_relative(contract, path), digest) for path, digest in con.execute(
            "SELECT source_file, file_sha256 FROM meta.ingestion_log WHERE batch_id = ("
            "  SELECT arg_max(batch_id, finished_at) FROM meta.ingestion_log WHERE dataset = ? AND partition_key = ?)"
            " AND status <> 'rejected'", [contract.name, partition or SNAPSHOT_KEY]).fetchall()}
    return bool(delivered) and delivered == loaded
