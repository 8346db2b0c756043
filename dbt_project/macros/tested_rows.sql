{#- Which rows a generic data test reads (dbt calls get_where_subquery for the `model` of every generic test).

    Besides the test's own `where`, a test reads only what came after what it last passed on (issue 9):
    - on a model whose meta names its load-time column (`tested_by_load_time`: the staging views, whose rows are the
      deliveries), the rows loaded after the newest load time the model held when the same test last passed;
    - on an incremental model (kept period by period), the rows inserted after the lake snapshot the same test last
      passed on: the periods rebuilt since (DuckLake keeps each row's snapshot; see rows_inserted_after).
    So a new month's build tests the new month instead of every row again. A test that compares rows with each
    other (unique_combination) reads every row sharing its key with such a row, so a new row that repeats an old key
    still fails. A table rebuilt whole is tested whole.

    "Last passed on" is kept per test in meta.dbt_test_watermarks (pipelines/quality/dbt_results.py) and handed to
    dbt as constants. Ingestion and dbt hold the lake's writer lock in turn, so rows loaded later carry later load
    times. The same test is the same unique_id, which dbt derives from the test's arguments: an edited test reads
    every row again. A failed test reads the same rows again until they pass. `--vars '{test_every_row: true}'`
    makes every test read every row. -#}
{% macro get_where_subquery(relation) -%}
    {%- set filters = [] -%}
    {%- if config.get('where') -%}{%- do filters.append(config.get('where')) -%}{%- endif -%}
    {%- set new_rows = tested_rows_predicate() -%}
    {%- if new_rows -%}
        {%- set key = model.test_metadata.kwargs.get('columns') if model.test_metadata.name == 'unique_combination' -%}
        {%- if key -%}
            {%- do filters.append('(' ~ key | join(', ') ~ ') in (select ' ~ key | join(', ') ~ ' from ' ~ relation
                                  ~ ' where ' ~ new_rows ~ ')') -%}
        {%- else -%}
            {%- do filters.append(new_rows) -%}
        {%- endif -%}
    {%- endif -%}
    {%- if filters -%}
        {#- named as the model, so that an expression naming the model's columns by its name still binds -#}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ filters | join(' and ') ~ ') as '
                      ~ (relation.identifier or 'dbt_subquery')) -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}


{#- The predicate on the attached model's rows that this generic test has not passed on yet; none: every row. -#}
{% macro tested_rows_predicate() -%}
    {%- if not execute or var('test_every_row', false) or not model.get('attached_node') -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- set attached = graph.nodes.get(model.attached_node) -%}
    {%- if not attached -%}{%- do return(none) -%}{%- endif -%}
    {%- set column = attached.config.meta.get('tested_by_load_time') -%}
    {%- if column -%}
        {%- set through = last_passed_through(model.unique_id) -%}
        {%- do return(column ~ " > '" ~ through ~ "'" if through else none) -%}
    {%- endif -%}
    {%- if attached.config.materialized == 'incremental' -%}
        {%- do return(rows_inserted_after(last_passed_snapshot(model.unique_id))) -%}
    {%- endif -%}
    {%- do return(none) -%}
{%- endmacro %}


{#- A singular test's predicate on `expression` (a period, over the rows the test reads) that keeps the periods
    changed since the test last passed. The test declares where its periods come from, in its config:
        {{ config(meta={'tested_by_period': {'inputs': [
            ['stg_bank__loans', 'cast(extract(year from report_month) as integer)', 'loaded_at'],
            ['fct_financed_emissions_loan_yearly', 'year', none]]}}) }}
    each input as [model, the period of its rows, its load-time column or none]: a period is checked again when an
    input has rows in it loaded (load-time column) or inserted (none: an incremental model, by lake snapshot) after
    the test last passed. A reconciliation of a mart with staging thus compares the new month's periods, not the
    history again; a period a delivery changed is still compared whole. The periods are read once per rendering and
    written into the SQL as constants, so DuckLake skips the files of the other periods (when the period is a year,
    name the rows' date column as year_of: a range on it skips files, the year of it does not; within_touched_years).
    Never passed, or with `test_every_row`: every period. -#}
{% macro periods_to_test(expression, year_of=none) -%}
    {%- if not execute or var('test_every_row', false) -%}{{ return('1 = 1') }}{%- endif -%}
    {%- set snapshot = last_passed_snapshot(model.unique_id) -%}
    {%- if snapshot is none -%}{{ return('1 = 1') }}{%- endif -%}
    {%- if 'tested_periods' not in model -%}
        {%- set through = last_passed_through(model.unique_id) -%}
        {%- set selects = [] -%}
        {%- for name, period, loaded_at in model.config.meta.tested_by_period.inputs -%}
            {%- set new_rows = rows_inserted_after(snapshot) if loaded_at is none
                               else (loaded_at ~ " > '" ~ through ~ "'" if through else '1 = 1') -%}
            {%- do selects.append('select distinct ' ~ dbt.concat(["'p:'", 'cast(' ~ period ~ ' as ' ~ dbt.type_string() ~ ')'])
                                  ~ ' from ' ~ ref(name) ~ ' where ' ~ (new_rows or '1 = 1')) -%}
        {%- endfor -%}
        {%- set values = [] -%}
        {%- for value in run_query(selects | join(' union ')).columns[0].values() | sort -%}
            {%- if value is not none -%}{%- do values.append(value[2:]) -%}{%- endif -%}
        {%- endfor -%}
        {%- do model.update({'tested_periods': values}) -%}
    {%- endif -%}
    {{ return(period_in(expression, model['tested_periods']) ~ within_touched_years(year_of, model['tested_periods'])) }}
{%- endmacro %}


{#- Rows inserted after lake snapshot `snapshot`, as a predicate; none (every row) where rows carry no snapshot. -#}
{% macro rows_inserted_after(snapshot) -%}
    {{ return(adapter.dispatch('rows_inserted_after')(snapshot)) }}
{%- endmacro %}

{% macro default__rows_inserted_after(snapshot) -%}
    {{ return(none) }}
{%- endmacro %}

{#- DuckLake gives every row the snapshot that inserted it (the virtual column snapshot_id), and every data file the
    range of its rows', so the filter skips the files written before. -#}
{% macro duckdb__rows_inserted_after(snapshot) -%}
    {{ return(none if snapshot is none else 'snapshot_id > ' ~ snapshot) }}
{%- endmacro %}


{#- The newest load time the test last passed on, none if it never did. The pipeline passes every test's watermarks
    as constants in LAKEHOUSE_DBT_TEST_WATERMARKS (pipelines/quality/dbt_results.py: {"load_time": {watermark:
    "<hash> …"}, "snapshot": {…}}, a test named by the hash ending its unique_id), so that the filter is a constant
    and DuckLake skips the files before it; read when the test runs, not when dbt parses (`lakehouse dbt` passes it
    too). Without it, dbt run by hand, every row is read. -#}
{% macro last_passed_through(test_id) -%}
    {%- do return(last_passed(test_id, 'load_time')) -%}
{%- endmacro %}

{#- The lake snapshot the test last passed on, none if it never did (passed as last_passed_through's). -#}
{% macro last_passed_snapshot(test_id) -%}
    {%- do return(last_passed(test_id, 'snapshot')) -%}
{%- endmacro %}

{% macro last_passed(test_id, kind) -%}
    {%- set passed = env_var('LAKEHOUSE_DBT_TEST_WATERMARKS', '') -%}
    {%- set test = namespace(through=none) -%}
    {%- if passed -%}
        {%- set hash = test_id.split('.')[-1] -%}
        {%- for through, hashes in (fromjson(passed).get(kind) or {}).items() if hash in hashes.split(' ') -%}
            {%- set test.through = through -%}
        {%- endfor -%}
    {%- endif -%}
    {%- do return(test.through) -%}
{%- endmacro %}
