from pathlib import Path

from pipelines import settings as settings_module


def test_embedded_default_keeps_everything_under_the_project(lake_root: Path):
    s = settings_module.load()
    assert s.catalog == f"sqlite:{lake_root / 'lakehouse' / 'catalog.sqlite'}"
    assert s.data_path == f"{lake_root / 'lakehouse' / 'data'}/"
    assert s.landing == lake_root / "landing"
    assert s.lock_file == lake_root / "lakehouse" / "writer.lock"
    assert s.attach_uri.startswith("ducklake:sqlite:")
    assert not s.data_on_object_storage


def test_postgres_catalog_and_object_storage_need_no_code_change(lake_root: Path, monkeypatch):
    monkeypatch.setenv("LAKEHOUSE_CATALOG", "postgres:dbname=lake host=db.internal user=lake")
    monkeypatch.setenv("LAKEHOUSE_DATA_PATH", "s3://green-lake/data")
    monkeypatch.setenv("LAKEHOUSE_S3_ENDPOINT", "minio.internal:9000")
    monkeypatch.setenv("LAKEHOUSE_S3_URL_STYLE", "path")
    s = settings_module.load()
    assert s.catalog_kind == "postgres"
    assert s.attach_uri == "ducklake:postgres:dbname=lake host=db.internal user=lake"
    assert s.data_path == "s3://green-lake/data/"
    assert s.data_on_object_storage
    env = s.dbt_env()
    assert env["LAKEHOUSE_CATALOG"] == s.catalog
    assert env["LAKEHOUSE_DATA_PATH"] == s.data_path
    assert env["LAKEHOUSE_S3_ENDPOINT"] == "minio.internal:9000"
    assert env["LAKEHOUSE_S3_URL_STYLE"] == "path"


def test_dbt_profile_reads_every_location_from_the_environment():
    profile = (settings_module.PROJECT_ROOT / "dbt_project" / "profiles.yml").read_text()
    for var in ("LAKEHOUSE_CATALOG", "LAKEHOUSE_DATA_PATH", "LAKEHOUSE_EXTENSION_DIR"):
        assert f"env_var('{var}')" in profile
    assert "autoinstall_known_extensions: false" in profile
