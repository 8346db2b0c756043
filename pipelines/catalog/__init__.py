"""The data catalog: every dataset in the lake, its columns, lineage, glossary concepts and quality.

What people decide lives in ``catalog/`` (glossary, owners, classification policy, the lake's own tables);
everything else is derived from the contracts, the dbt manifest, the Dagster asset graph and the lake, and
written to ``meta.catalog_*`` tables by ``pipelines.catalog.build``.
"""
