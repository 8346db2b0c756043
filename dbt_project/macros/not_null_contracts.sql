{#- A run-start hook: the not_null constraints of the selected incremental models' enforced contracts, added to their
    tables where the lake lacks them. dbt writes a contract's constraints only when it creates a table, so a table
    kept increment by increment since before a constraint was declared (or before its layer had a contract) would
    take nulls the contract forbids until a --full-refresh, and no not_null test checks it any more (issue 9).
    A null among the rows already there fails the run, naming the table and the column. One catalog query per run;
    a count and an ALTER only the first time. -#}
{% macro enforce_not_null_contracts() -%}
    {{ return(adapter.dispatch('enforce_not_null_contracts')()) }}
{%- endmacro %}

{#- dbt-spark: Delta needs ALTER TABLE … CHANGE COLUMN … SET NOT NULL and has no information_schema; not done yet,
    so there a not_null added to a kept incremental model takes effect with its next --full-refresh. -#}
{% macro spark__enforce_not_null_contracts() -%}
{%- endmacro %}

{#- DuckDB, DuckLake (and PostgreSQL): the standard information_schema and ALTER TABLE … SET NOT NULL. -#}
{% macro default__enforce_not_null_contracts() -%}
    {%- if execute -%}
        {%- set wanted = {} -%}
        {%- for node in graph.nodes.values()
                if node.resource_type == 'model' and node.unique_id in selected_resources
                and node.config.materialized == 'incremental' and node.config.contract.enforced -%}
            {%- for column in node.columns.values()
                    if 'not_null' in (column.constraints | map(attribute='type') | list) -%}
                {%- do wanted.update({(node.schema ~ '.' ~ node.alias ~ '.' ~ column.name) | lower:
                                      (node.database, node.schema, node.alias, column.name)}) -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- if wanted -%}
            {%- set schemas = wanted.values() | map(attribute=1) | unique | list -%}
            {%- set nullable -%}
                select lower(table_schema || '.' || table_name || '.' || column_name)
                from information_schema.columns
                where is_nullable = 'YES' and table_catalog = '{{ target.database }}'
                    and table_schema in ('{{ schemas | join("', '") }}')
            {%- endset -%}
            {%- for found in run_query(nullable).columns[0].values() if found in wanted -%}
                {%- set database, schema, table, column = wanted[found] -%}
                {%- set relation = api.Relation.create(database=database, schema=schema, identifier=table) -%}
                {%- set nulls = run_query('select count(*) from ' ~ relation ~ ' where '
                                          ~ adapter.quote(column) ~ ' is null').columns[0].values()[0] -%}
                {%- if nulls > 0 -%}
                    {{ exceptions.raise_compiler_error(relation ~ '.' ~ column ~ ': ' ~ nulls ~ ' rows are null, '
                        ~ 'which its model contract (not_null) forbids; correct them, or rebuild the model with '
                        ~ '--full-refresh') }}
                {%- endif -%}
                {%- do log('adding the contract\'s not_null on ' ~ relation ~ '.' ~ column, info=true) -%}
                {#- each its own commit: DuckLake alters a table once per transaction -#}
                {%- call statement('set_not_null_' ~ loop.index, auto_begin=False) -%}
                    alter table {{ relation }} alter column {{ adapter.quote(column) }} set not null
                {%- endcall -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

