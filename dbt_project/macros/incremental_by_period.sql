{#- Marts kept period by period (month, quarter, year): a run recomputes only the periods whose inputs were
    delivered (or delivered again) since the model was last built, and replaces those periods in place; history
    is not rebuilt for one new month.

    A model kept by month declares, once, the inputs whose deliveries rebuild a period:
        {{ config(**incremental_by_period('report_month', inputs=[
            ['stg_bank__loans', 'report_month', 'loaded_at']])) }}
        … from {{ ref('stg_bank__loans') }}
          where {{ periods_to_rebuild('report_month') }}
    Each input is [model name, the model's period as an expression over that input's rows, its load-time column];
    list an input twice with a shifted period when a period also depends on its neighbour (month M is rebuilt
    when M - 1 is reloaded: ['stg_bank__loans', 'cast(<report_month + 1 month> as date)', 'loaded_at']).
    The model carries a column `inputs_loaded_at` per period: the newest delivery its figures include, which is
    also the watermark the next run compares against. A period is rebuilt when one of its inputs has rows loaded
    after the model's newest watermark. The watermark, and then the periods to rebuild, are read when the model
    runs and written into its SQL as constants: an input is filtered on `loaded_at > <timestamp>` and the rows on
    `<period> in ('2025-12-01', …)`, so DuckLake skips every data file whose statistics rule it out. Finding the
    periods costs the new data, and rebuilding them reads their own files, not the input's history (a subquery
    in their place is not known when files are chosen: a year's rebuild of the PCAF attribution read all 105 M
    loan rows at scale 1 to keep 16 M). A period a month behind (month M also needs M - 1) is asked for as
    `periods_to_rebuild('report_month', months_before=1)`, which shifts the constants rather than the column,
    so the files are still skipped. A period that is a year of a date column (`year(report_month)`) is asked for with
    `periods_to_rebuild(<year expression>, year_of='report_month')`, which adds a range on the date itself: DuckLake
    can skip files on the range, not on the year of it. An input whose rows belong to no one period (a register
    such as the enterprise registry, whose rows every year reads) is declared with the period none:
    ['stg_enterprise__registries', none, '_loaded_at'] rebuilds every period the model holds when it has new rows.
    Seeds are not watched, nor are the models named in `not_watched`: reference data and registers whose change
    should not restate history, and inputs rebuilt for the same periods as a watched one (the chain members with
    the loan signals they are walked from):
    {{ config(**incremental_by_period('report_month', inputs=[...], not_watched=['stg_public__divisions'])) }}.
    Every other model it reads must be watched (tests/test_incremental_by_period.py checks the manifest). An input
    whose row changes its own period and every later one (a green bond counts as outstanding from its issue year on)
    is named in `and_later`: its rows loaded after the watermark rebuild their periods and every later period the
    model holds ({{ config(**incremental_by_period('year', inputs=[...,
    ['stg_bank__green_bonds', 'year(issue_date)', '_loaded_at']], and_later=['stg_bank__green_bonds'])) }}). After
    changing an input that is not watched, rebuild with `lakehouse dbt build --full-refresh --select <model>`, or
    name periods with `--vars '{rebuild_periods: ["2020-12-01"]}'` (a period's text, e.g. a month's first day or a
    year).

    Replacing a period deletes *every* period the run set out to rebuild, then inserts what the run computed,
    in one transaction (strategy `replace_periods` below): a rebuilt period that now yields no rows (a guarantee
    chain gone after a corrected loan report) is emptied rather than left with its old rows, which plain
    delete+insert on the new rows' keys would do. -#}

{% macro incremental_by_period(period_column, inputs, not_watched=[], and_later=[]) -%}
    {%- do model.update({'period_inputs': inputs, 'period_inputs_and_later': and_later}) -%}
    {%- for name, _, _ in inputs -%}{%- do ref(name) -%}{%- endfor -%}  {#- a watched input is a dependency -#}
    {%- for name in and_later if name not in (inputs | map('first') | list) -%}
        {{ exceptions.raise_compiler_error(model.name ~ ": and_later names " ~ name ~ ", which is not an input") }}
    {%- endfor -%}
    {%- set config = adapter.dispatch('incremental_by_period')(period_column, inputs) -%}
    {%- do config.update({'period_inputs_not_watched': not_watched, 'period_inputs_and_later': and_later}) -%}
    {{ return(config) }}
{%- endmacro %}

{% macro default__incremental_by_period(period_column, inputs) -%}
    {{ return({'materialized': 'incremental', 'incremental_strategy': 'replace_periods', 'unique_key': period_column,
               'period_inputs': inputs, 'on_schema_change': 'fail'}) }}
{%- endmacro %}

{#- Spark has no custom strategies: it overwrites the partitions the run produced, so an emptied period keeps its
    rows there until the model is rebuilt with --full-refresh (a known gap of the Spark port). -#}
{% macro spark__incremental_by_period(period_column, inputs) -%}
    {{ return({'materialized': 'incremental', 'incremental_strategy': 'insert_overwrite',
               'partition_by': [period_column], 'file_format': 'delta', 'period_inputs': inputs,
               'on_schema_change': 'fail'}) }}
{%- endmacro %}


{#- A predicate on `period`, an expression over the rows being filtered that gives the model's period they feed:
    true for every row on a full build, else for the periods to recompute. With months_before = n (a month
    column), for the rows n months before a period to recompute. -#}
{% macro periods_to_rebuild(period, watermark_column='inputs_loaded_at', months_before=0, year_of=none) -%}
    {%- if execute and is_incremental() -%}
    {#- asked once per rendering: a model filters several inputs, and each look at the lake's columns is a query -#}
    {%- set checked = 'has_watermark:' ~ this ~ '.' ~ watermark_column -%}
    {%- if this is not string and checked not in model -%}
    {%- if watermark_column not in adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
        {{ exceptions.raise_compiler_error(this ~ " has no " ~ watermark_column ~ " column: it was built before it was"
            ~ " kept period by period. Rebuild it once: lakehouse dbt build --full-refresh --select " ~ this.identifier) }}
    {%- endif -%}
    {%- do model.update({checked: true}) -%}
    {%- endif -%}
    {{ period_is_rebuilt(period, period_inputs(), this, watermark_column, months_before) }}
    {%- if year_of and this is not string %}
    {{ within_touched_years(year_of, rebuilt_periods(period_inputs(), this, watermark_column)) }}
    {%- endif -%}
    {%- else -%}
    1 = 1
    {%- endif -%}
{%- endmacro %}


{#- The names of the inputs whose rows also rebuild every later period (incremental_by_period's and_later). -#}
{% macro period_inputs_and_later() -%}
    {{ return(config.get('period_inputs_and_later') or model.get('period_inputs_and_later') or []) }}
{%- endmacro %}


{#- The model's declared inputs as [relation, period expression, load-time column]. -#}
{% macro period_inputs() -%}
    {#- a unit test has its own config: it sees the declaration its model's body made in the same rendering -#}
    {%- set inputs = config.get('period_inputs') or model.get('period_inputs') -%}
    {%- if not inputs -%}
        {{ exceptions.raise_compiler_error(model.name ~ " is kept period by period but declares no inputs:"
            ~ " config(**incremental_by_period(<period column>, inputs=[[model, period, loaded_at], ...]))") }}
    {%- endif -%}
    {%- set relations = [] -%}
    {%- for name, input_period, loaded_at in inputs -%}
        {%- do relations.append([ref(name), input_period, loaded_at]) -%}
    {%- endfor -%}
    {{ return(relations) }}
{%- endmacro %}


{% macro period_is_rebuilt(period, input_relations, target, watermark_column='inputs_loaded_at', months_before=0) -%}
    {%- if target is string -%}  {#- a unit test: its inputs are CTEs, the plan stays SQL -#}
    {%- set shifted = period if not months_before
                      else 'cast(' ~ dbt.dateadd('month', months_before, period) ~ ' as date)' -%}
    (cast({{ shifted }} as {{ dbt.type_string() }}) in ({{ rebuilt_periods_sql(input_relations, target, watermark_column) }}))
    {%- else -%}
    {{ period_in(period, rebuilt_periods(input_relations, target, watermark_column, months_before)) }}
    {%- endif -%}
{%- endmacro %}


{#- The periods to rebuild as SQL: those of input rows loaded after the watermark (and the later ones, for an
    input named in and_later), and those named in --vars rebuild_periods (as text). -#}
{% macro rebuilt_periods_sql(input_relations, target, watermark_column='inputs_loaded_at') -%}
    {%- for relation, input_period, loaded_at in input_relations %}
        {% if not loop.first %}union {% endif -%}
        {{ input_periods_sql(relation, input_period, loaded_at, target, watermark_column,
                             and_later=period_input_name(loop.index0) in period_inputs_and_later()) }}
    {%- endfor %}
    {%- for named in var('rebuild_periods', []) %}
        union select '{{ named }}'
    {%- endfor %}
{%- endmacro %}


{#- The periods one input's rows loaded after the watermark feed, as text: the periods of those rows, or, for an
    input declared without a period (a register every period reads), every period the model holds if it has any.
    A row whose period expression is null feeds no period (a market-data row of a month the model does not read).
    and_later: also every period the model holds from the earliest of those rows' periods on. -#}
{% macro input_periods_sql(relation, input_period, loaded_at, target, watermark_column='inputs_loaded_at',
                           and_later=false) -%}
    {%- if and_later and input_period is not none -%}
        {%- set period_column = config.get('unique_key') -%}
        select cast({{ period_column }} as {{ dbt.type_string() }})
        from {{ target }}
        where {{ period_column }} >= (
            select min({{ input_period }}) from {{ relation }}
            where {{ loaded_at }} > {{ incremental_watermark(target, watermark_column) }})
        group by {{ period_column }}
        union
        {{ input_periods_sql(relation, input_period, loaded_at, target, watermark_column) }}
    {%- elif input_period is none -%}
        {%- set period_column = config.get('unique_key') -%}
        select cast({{ period_column }} as {{ dbt.type_string() }})
        from {{ target }}
        where exists (
            select 1 from {{ relation }}
            where {{ loaded_at }} > {{ incremental_watermark(target, watermark_column) }})
        group by {{ period_column }}
    {%- else -%}
        select cast({{ input_period }} as {{ dbt.type_string() }})
        from {{ relation }}
        where {{ loaded_at }} > {{ incremental_watermark(target, watermark_column) }}
            and {{ input_period }} is not null
        group by {{ input_period }}
    {%- endif -%}
{%- endmacro %}


{#- Where a run keeps what it read for planning a model (periods, watermarks): the model's node in dbt's graph, which
    the model's compilation and its materialization (the strategy's delete renders the plan again) both see, so
    that the lake is asked once per run and model, not once per rendering: asking twice cost 2.4 s of SQL in a
    month at scale 1 (96 queries, issue 9). Nothing is written between the two renderings, so both read the same.
    A unit test's model is not in the graph: it keeps its own. -#}
{% macro plan_cache() -%}
    {{ return(graph.nodes.get(model.unique_id, model)) }}
{%- endmacro %}


{#- The periods to rebuild, as text, read once per run (shifted back months_before months). -#}
{% macro rebuilt_periods(input_relations, target, watermark_column='inputs_loaded_at', months_before=0) -%}
    {%- set key = 'rebuilt_periods:' ~ target ~ '.' ~ watermark_column ~ ':' ~ months_before -%}
    {%- set cache = plan_cache() -%}
    {%- if key not in cache -%}
        {%- set period = 'period' if not months_before
                         else 'cast(' ~ dbt.dateadd('month', -months_before, 'cast(period as date)') ~ ' as date)' -%}
        {#- prefixed, so that dbt's result table keeps the text as text instead of guessing a date or a number -#}
        {%- set sql = "select distinct " ~ dbt.concat(["'p:'", 'cast(' ~ period ~ ' as ' ~ dbt.type_string() ~ ')'])
                      ~ ' from (' ~ rebuilt_periods_sql(input_relations, target, watermark_column)
                      ~ ') as rebuilt(period) where period is not null' -%}
        {%- set values = [] -%}
        {%- for value in run_query(sql).columns[0].values() | sort -%}{%- do values.append(value[2:]) -%}{%- endfor -%}
        {%- do cache.update({key: values}) -%}
    {%- endif -%}
    {{ return(cache[key]) }}
{%- endmacro %}


{#- `expression in (<values>)` with the values as text literals, which the comparison casts to the expression's
    type (a date, a year): a filter on constants that DuckLake checks against each file's statistics. No values:
    false. -#}
{% macro period_in(expression, values) -%}
    {%- if values -%}
    ({{ expression }} in ({% for value in values %}'{{ value | replace("'", "''") }}'{% if not loop.last %}, {% endif %}{% endfor %}))
    {%- else -%}
    (1 = 0)
    {%- endif -%}
{%- endmacro %}


{#- The newest delivery `target` includes, as SQL: a timestamp literal, read from the table once per run (the
    model's body asks for it once per input and period expression; plan_cache). The strategy's delete uses it again
    before the insert, so it has the value the body used and empties the periods the body rebuilt. The literal is
    the watermark cast to a plain timestamp in the session's time zone, which the comparison with a load time with
    a time zone casts back in the same zone: exact to the microsecond, so the newest delivery is not seen as new
    again. A unit test's `this` is a fixture (a string, not a table): there it stays a subquery. -#}
{% macro incremental_watermark(target, watermark_column='inputs_loaded_at') -%}
    {%- set earliest = "cast('1900-01-01 00:00:00' as timestamp)" -%}
    {%- if target is string -%}
        {{ return("(select coalesce(max(" ~ watermark_column ~ "), " ~ earliest ~ ") from " ~ target ~ ")") }}
    {%- endif -%}
    {%- set key = 'incremental_watermark:' ~ target ~ '.' ~ watermark_column -%}
    {%- set cache = plan_cache() -%}
    {%- if key not in cache -%}
        {%- set newest = run_query("select cast(cast(max(" ~ watermark_column ~ ") as " ~ dbt.type_timestamp() ~ ") as "
                                   ~ dbt.type_string() ~ ") from " ~ target).columns[0].values()[0] -%}
        {%- do cache.update({key: earliest if newest is none else "cast('" ~ newest ~ "' as timestamp)"}) -%}
    {%- endif -%}
    {{ return(cache[key]) }}
{%- endmacro %}


{#- The strategy: empty every period this run set out to rebuild (and any period it produced), then insert. Runs
    inside the materialization's transaction, before the watermark moves, so it sees the same set as the body. -#}
{% macro get_incremental_replace_periods_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set period_column = arg_dict['unique_key'] -%}
    {%- set dest_cols_csv = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }}
    where {{ period_is_rebuilt(period_column, period_inputs(), target) }}
        or {{ period_column }} in (select {{ period_column }} from {{ source }});

    insert into {{ target }} ({{ dest_cols_csv }})
    select {{ dest_cols_csv }} from {{ source }}
{%- endmacro %}
