"""The same code, unchanged, with the catalog on PostgreSQL and the data on object storage."""

import pytest
from services import postgres_server, s3_server
from test_end_to_end import MART, actual_mart, expected_mart

pytestmark = pytest.mark.e2e


def test_whole_pipeline_on_postgres_catalog_and_s3_data(tmp_path, monkeypatch):
    with postgres_server() as conninfo, s3_server("green-lake") as s3_env:
        monkeypatch.setenv("LAKEHOUSE_ROOT", str(tmp_path))
        monkeypatch.setenv("LAKEHOUSE_CATALOG", f"postgres:{conninfo}")
        monkeypatch.setenv("LAKEHOUSE_DATA_PATH", "s3://green-lake/lake/")
        for key, value in s3_env.items():
            monkeypatch.setenv(key, value)
        (tmp_path / "dagster").mkdir()
        monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))

        from pipelines import run
        from pipelines import settings as settings_module
        from pipelines.demo.bank_loans import generate_bank_loans
        from pipelines.lake.connection import reader

        settings = settings_module.load()
        assert settings.catalog_kind == "postgres" and settings.data_on_object_storage
        generate_bank_loans(settings.landing, ["2020-11", "2020-12"], n_banks=2, loans_per_bank=40)
        # the green-credit lineage only: what differs here is storage, not the models (the e2e test builds them all)
        assert run.main(["--select", f'+key:"published/{MART.split(".")[1]}"']) == 0
        assert actual_mart(settings) == expected_mart(settings)
        with reader(settings) as con:
            files = con.execute("SELECT count(*) FROM __ducklake_metadata_lake.ducklake_data_file").fetchone()[0]
            data_path = con.execute("SELECT value FROM __ducklake_metadata_lake.ducklake_metadata "
                                    "WHERE key = 'data_path'").fetchone()[0]
        assert files > 0 and data_path.startswith("s3://green-lake/")
        assert not (tmp_path / "lakehouse" / "data").exists()  # nothing was written locally
