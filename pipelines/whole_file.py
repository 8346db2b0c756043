"""Files written whole or not at all: written under a temporary name beside the target, then renamed over it, so a
reader (the next run, another process) sees the old file or the new one, never half of one."""

import uuid
from pathlib import Path


def write_whole(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
