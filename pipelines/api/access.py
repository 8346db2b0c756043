"""Who is calling: API keys (stored as SHA-256 hashes, never the keys) mapped to roles with a clearance.

The configuration is ``api_access.yml`` at the project root, or the file ``LAKEHOUSE_API_ACCESS`` names. A role has
a clearance L1…L4 (JR/T 0197 levels; L5 核心 never leaves the lake, so no role holds it), may be an admin (reads
the audit) and may be a bank's (``institution_code``): on a mart with a ``bank_code`` column such a role only ever
sees its own rows.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from pipelines.api.errors import ApiError
from pipelines.settings import PROJECT_ROOT
from pipelines.yaml_io import read_yaml

ACCESS_ENV = "LAKEHOUSE_API_ACCESS"
DEFAULT_ACCESS_FILE = PROJECT_ROOT / "api_access.yml"
LEVELS = ("L1", "L2", "L3", "L4", "L5")
TOP_CLEARANCE = "L4"  # L5 is 核心 data: never served
_SHA256 = re.compile(r"[0-9a-f]{64}")


class AccessConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Role:
    name: str
    clearance: int  # 1…4
    admin: bool = False
    institution_code: str | None = None
    description: str = ""

    @property
    def clearance_label(self) -> str:
        return f"L{self.clearance}"


@dataclass(frozen=True)
class Caller:
    key_id: str  # the key's public name in the configuration, what the audit records
    role: Role


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def level_number(level: str | None) -> int | None:
    return LEVELS.index(level) + 1 if level in LEVELS else None


class AccessControl:
    def __init__(self, roles: dict[str, Role], keys: dict[str, tuple[str, str]]):
        self.roles = roles
        self._keys = keys  # sha256 hex → (key id, role name)

    @classmethod
    def load(cls, path: Path | str | None = None) -> AccessControl:
        path = Path(path or os.environ.get(ACCESS_ENV, "").strip() or DEFAULT_ACCESS_FILE)
        try:
            doc = read_yaml(path) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise AccessConfigError(f"cannot read the API access file {path}: {exc}") from exc
        return cls.from_dict(doc, str(path))

    @classmethod
    def from_dict(cls, doc: dict, source: str = "api access") -> AccessControl:
        roles = {}
        for name, spec in (doc.get("roles") or {}).items():
            clearance = level_number(str(spec.get("clearance")))
            if clearance is None or clearance > level_number(TOP_CLEARANCE):
                raise AccessConfigError(f"{source}: role {name} needs a clearance L1…{TOP_CLEARANCE}")
            code = spec.get("institution_code")
            roles[name] = Role(name, clearance, bool(spec.get("admin", False)), str(code) if code else None,
                               str(spec.get("description", "")))
        keys = {}
        for entry in doc.get("keys") or []:
            key_id, digest, role = entry.get("id"), str(entry.get("sha256", "")).lower(), entry.get("role")
            if not key_id or not _SHA256.fullmatch(digest):
                raise AccessConfigError(f"{source}: each key needs an id and the sha256 hex digest of the key")
            if role not in roles:
                raise AccessConfigError(f"{source}: key {key_id} names unknown role {role!r}")
            if digest in keys:
                raise AccessConfigError(f"{source}: key {key_id} has the same hash as key {keys[digest][0]}")
            keys[digest] = (str(key_id), role)
        return cls(roles, keys)

    def authenticate(self, key: str | None) -> Caller:
        if not key:
            raise ApiError(401, "missing_api_key", "an API key is required (header X-API-Key or "
                                                   "Authorization: Bearer <key>)")
        digest = key_hash(key)
        for known, (key_id, role) in self._keys.items():
            if hmac.compare_digest(known, digest):
                return Caller(key_id, self.roles[role])
        raise ApiError(401, "unknown_api_key", "the API key is not known")
