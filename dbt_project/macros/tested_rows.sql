{#- Which rows a generic data test reads (dbt calls get_where_subquery for the `model` of every generic test).

    Besides the test's own `where`, a test on a model whose meta names its load-time column (`tested_by_load_time`:
    the staging views, whose rows are the deliveries) reads only the rows loaded after those it last passed on, so a
    new month's build tests the new month instead of every delivered row again (issue 9). A test that compares rows
    with each other (unique_combination) reads every row sharing its key with such a row, so a new row that repeats
    an old key still fails.

    "Last passed on": the newest load time the model held when the same test last passed, kept per test in
    meta.dbt_test_watermarks (pipelines/quality/dbt_results.py) and handed to dbt as constants. Ingestion and
    dbt hold the lake's writer lock in turn, so rows loaded later carry later load times. The same test is the same unique_id, which dbt
    derives from the test's arguments: an edited test reads every row again. A failed test reads the same rows
    again until they pass. `--vars '{test_every_row: true}'` makes every test read every row. -#}
{% macro get_where_subquery(relation) -%}
    {%- set filters = [] -%}
    {%- if config.get('where') -%}{%- do filters.append(config.get('where')) -%}{%- endif -%}
    {%- set column = tested_by_load_time() -%}
    {%- set through = last_passed_through(model.unique_id) if column else none -%}
    {%- if through -%}
        {%- set new_rows = column ~ " > '" ~ through ~ "'" -%}
        {%- set key = model.test_metadata.kwargs.get('columns') if model.test_metadata.name == 'unique_combination' -%}
        {%- if key -%}
            {%- do filters.append('(' ~ key | join(', ') ~ ') in (select ' ~ key | join(', ') ~ ' from ' ~ relation
                                  ~ ' where ' ~ new_rows ~ ')') -%}
        {%- else -%}
            {%- do filters.append(new_rows) -%}
        {%- endif -%}
    {%- endif -%}
    {%- if filters -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ filters | join(' and ') ~ ') dbt_subquery') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}


{#- The load-time column of the model this generic test is attached to, if its rows are tested as delivered. -#}
{% macro tested_by_load_time() -%}
    {%- if not execute or var('test_every_row', false) or not model.get('attached_node') -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- set attached = graph.nodes.get(model.attached_node) -%}
    {%- do return(attached.config.meta.get('tested_by_load_time') if attached else none) -%}
{%- endmacro %}


{#- The newest load time the test last passed on, none if it never did. The pipeline passes every test's watermark
    as constants in LAKEHOUSE_DBT_TEST_WATERMARKS (pipelines/quality/dbt_results.py: {watermark: "<hash> …"}, a test
    named by the hash ending its unique_id), so that the filter is a constant and DuckLake skips the files loaded
    before it; read when the test runs, not when dbt parses (`lakehouse dbt` passes it too). Without it, dbt run by
    hand, every row is read. -#}
{% macro last_passed_through(test_id) -%}
    {%- set passed = env_var('LAKEHOUSE_DBT_TEST_WATERMARKS', '') -%}
    {%- set test = namespace(through=none) -%}
    {%- if passed -%}
        {%- set hash = test_id.split('.')[-1] -%}
        {%- for through, hashes in fromjson(passed).items() if hash in hashes.split(' ') -%}
            {%- set test.through = through -%}
        {%- endfor -%}
    {%- endif -%}
    {%- do return(test.through) -%}
{%- endmacro %}
