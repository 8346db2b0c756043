"""The catalog's tables in ``meta``. A build replaces their contents in one transaction, so each lake snapshot
holds one complete catalog and ``AT (VERSION => n)`` reads the catalog as it was."""

TABLES = {
    # One row per dataset: landing.<contract> (the delivered files), raw.*, quarantine.*, staging.*,
    # intermediate.*, marts.*, meta.*, published.* (a mart's validated version).
    "catalog_datasets": """
        dataset VARCHAR NOT NULL, fqn VARCHAR NOT NULL, layer VARCHAR NOT NULL, kind VARCHAR NOT NULL,
        description VARCHAR, owner VARCHAR, domain VARCHAR, location VARCHAR, format VARCHAR,
        source_system VARCHAR, contract VARCHAR, contract_version VARCHAR, dagster_asset VARCHAR,
        concepts VARCHAR[], upstream VARCHAR[], downstream VARCHAR[],
        row_count BIGINT, snapshot_id BIGINT, snapshot_time TIMESTAMPTZ,
        sla VARCHAR, last_loaded_at TIMESTAMPTZ, freshness VARCHAR, freshness_detail VARCHAR,
        quality VARCHAR, built_at TIMESTAMPTZ NOT NULL""",
    "catalog_columns": """
        dataset VARCHAR NOT NULL, column_name VARCHAR NOT NULL, ordinal INTEGER NOT NULL,
        data_type VARCHAR, declared_type VARCHAR, description VARCHAR,
        classification VARCHAR, personal_information VARCHAR, classification_source VARCHAR,
        concept VARCHAR""",
    # Table-level edges have NULL columns and transformation 'TABLE'; column-level edges carry the
    # OpenLineage transformation type: IDENTITY, TRANSFORMATION or AGGREGATION (direct), or INDIRECT.
    "catalog_lineage": """
        downstream VARCHAR NOT NULL, downstream_column VARCHAR, upstream VARCHAR NOT NULL,
        upstream_column VARCHAR, transformation VARCHAR NOT NULL, via VARCHAR NOT NULL""",
    "catalog_glossary": """
        concept VARCHAR NOT NULL, name_zh VARCHAR NOT NULL, name_en VARCHAR NOT NULL, definition VARCHAR NOT NULL,
        domain VARCHAR, authoritative_dataset VARCHAR NOT NULL, authoritative_columns VARCHAR[],
        published_by VARCHAR[], not_from VARCHAR[]""",
    "catalog_quality": """
        dataset VARCHAR NOT NULL, check_kind VARCHAR NOT NULL, check_name VARCHAR NOT NULL,
        status VARCHAR NOT NULL, failures BIGINT, details VARCHAR, evaluated_at TIMESTAMPTZ""",
    # The catalog's rules that do not hold right now: errors fail the catalog check, warnings (an overdue
    # delivery) are flagged.
    "catalog_violations": """
        rule VARCHAR NOT NULL, severity VARCHAR NOT NULL, dataset VARCHAR NOT NULL, column_name VARCHAR,
        message VARCHAR NOT NULL""",
}
