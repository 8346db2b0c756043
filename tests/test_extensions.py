"""DuckDB extensions come from the pinned wheels, never from the network."""

import duckdb

from pipelines import settings as settings_module
from pipelines.lake import extensions
from pipelines.lake.connection import reader


def test_every_extension_binary_ships_in_a_wheel_of_our_duckdb_version():
    assert duckdb.__version__ == "1.5.5"
    for name in extensions.REQUIRED:
        assert extensions.wheel_binary(name).stat().st_size > 1_000_000


def test_sessions_never_autoinstall_and_load_from_the_project_directory(lake):
    config = extensions.connection_config(lake)
    assert config["autoinstall_known_extensions"] is False
    with reader(lake) as con:
        assert con.execute("SELECT current_setting('autoinstall_known_extensions')").fetchone()[0] is False
        loaded = dict(con.execute(
            "SELECT extension_name, install_path FROM duckdb_extensions() WHERE loaded").fetchall())
    assert loaded["ducklake"].startswith(str(lake.extension_dir))
    assert loaded["sqlite_scanner"].startswith(str(lake.extension_dir))


def test_install_into_an_empty_directory_uses_only_the_wheels(tmp_path, monkeypatch):
    monkeypatch.setenv("LAKEHOUSE_EXTENSION_DIR", str(tmp_path / "ext"))
    s = settings_module.load()
    assert sorted(extensions.install(s)) == sorted(extensions.REQUIRED)
    assert extensions.missing(s) == []
    assert extensions.install(s) == []  # idempotent
