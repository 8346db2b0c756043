{#- Periods of "each key's latest report" (PCAF's outstanding at the loan's last report of the year), kept like
    incremental_by_period but without recomputing a whole year when one month of it arrives.

    A month is *appended* when it is newer than every report its period already holds for its group (a bank's
    December after its November): then only the keys reported in it can change, and only their rows are
    replaced. Anything else (the same month delivered again, an older month corrected, another input of the
    period such as a financial statement, a period named in --vars rebuild_periods) rebuilds the period whole,
    exactly as incremental_by_period does. A year of loans costs its new month, not its twelve (issue 9).

        {{ config(**incremental_by_period_with_appends('year', inputs=watched, appends={
            'input': 'stg_bank__loans', 'month': 'report_month', 'loaded_at': 'loaded_at',
            'latest': 'outstanding_month', 'group': ['bank_code'], 'keys': ['bank_code', 'loan_id']})) }}
        … from {{ ref('stg_bank__loans') }} where {{ periods_or_appended_months(loan_year) }}

    `input` is one of `inputs` (its period expression is taken from there); `month` its report month, `latest` the
    model's column holding the report month a row was taken from, `group` the columns within which reports arrive
    in order, `keys` (with the period) a row's key. Engines without the strategy (Spark's insert_overwrite) treat
    every appended month as a period to rebuild whole.

    `keyed` (optional) names inputs whose rows change only the model's rows of one key, such as a borrower's
    year-end market cap (only that borrower's loans):
        'keyed': [{'input': 'stg_enterprise__market_data', 'key': 'credit_code', 'column': 'borrower_id'}]
    Their rows loaded after the watermark do not rebuild their period whole: the model recomputes, within each
    such period, the rows whose `column` (a column of the appended input) holds one of their `key` values, reading
    every row of the appended input with that value in the period, and replaces those rows by `keys`. The same
    values are recomputed in every such period (a superset, each recomputed whole). Rows of the appended input
    with those values and periods are not classified as appended or not: their recomputation covers them. What a
    recomputation reads must hold for every row of the key: a loan's borrower does not change between reports
    (a contract names its borrower). A row deleted from the appended input is, as before, only seen when its
    period is rebuilt whole. -#}

{% macro incremental_by_period_with_appends(period_column, inputs, appends, not_watched=[]) -%}
    {%- set config = incremental_by_period(period_column, inputs, not_watched) -%}
    {%- for keyed in appends.get('keyed', []) if keyed['input'] not in (inputs | map('first') | list) -%}
        {{ exceptions.raise_compiler_error(model.name ~ ": keyed names " ~ keyed['input'] ~ ", which is not an input") }}
    {%- endfor -%}
    {%- if config['incremental_strategy'] == 'replace_periods' -%}
        {%- do config.update({'incremental_strategy': 'replace_periods_or_keys'}) -%}
    {%- endif -%}
    {%- set appends = dict(appends, period_column=period_column,
                           by_key=config['incremental_strategy'] == 'replace_periods_or_keys') -%}
    {%- do config.update({'period_appends': appends}) -%}
    {%- do model.update({'period_appends': appends}) -%}  {#- what a unit test of the model sees, as period_inputs -#}
    {{ return(config) }}
{%- endmacro %}


{#- The plan, as SQL over the lake: the months of the appended input loaded after the model's watermark, each with
    its period and whether it is appended. A run reads it once (period_appends_plan) and filters on constants; a
    unit test, whose inputs are CTEs, keeps it inline. Evaluated by the body and by the strategy before the model's
    table changes. `held_periods` (text): the only periods of the model whose latest months are read, so that the
    model's other years are not (period_appends_plan). -#}
{% macro period_appends_new_months(held_periods=none) -%}
    {%- set appends = config.get('period_appends') or model.get('period_appends') -%}
    {%- set period_column = appends['period_column'] -%}
    {%- set by_key = appends['by_key'] -%}
    {%- set group = appends['group'] | join(', ') -%}
    {%- set relation, input_period, loaded_at = period_appends_input() -%}
    select new_months.*,
        {% if by_key %}coalesce(new_months.month > held.latest, true){% else %}false{% endif %} as is_append
    from (
        select {{ group }}, {{ appends['month'] }} as month,
            cast({{ input_period }} as {{ dbt.type_string() }}) as period
        from {{ relation }}
        where {{ loaded_at }} > {{ incremental_watermark(this) }}
            and not {{ period_appends_keyed_rows(input_period) }}
        group by {{ group }}, {{ appends['month'] }}, cast({{ input_period }} as {{ dbt.type_string() }})
    ) as new_months
    left join (
        select {{ group }}, cast({{ period_column }} as {{ dbt.type_string() }}) as period,
            max({{ appends['latest'] }}) as latest
        from {{ this }}
        {%- if held_periods is not none %}
        where {{ period_in(period_column, held_periods) }}
        {%- endif %}
        group by {{ group }}, cast({{ period_column }} as {{ dbt.type_string() }})
    ) as held
        on {% for column in appends['group'] %}held.{{ column }} = new_months.{{ column }} and {% endfor -%}
        held.period = new_months.period
{%- endmacro %}


{#- The appended input as period_inputs() declares it: (relation, period expression, load-time column). -#}
{% macro period_appends_input() -%}
    {%- set appends = config.get('period_appends') or model.get('period_appends') -%}
    {%- for declared in period_inputs() -%}
        {%- if period_input_name(loop.index0) == appends['input'] %}{{ return(declared) }}{% endif -%}
    {%- endfor -%}
{%- endmacro %}


{#- The model name of the i-th declared input (in a unit test its relation is a CTE, not a relation). -#}
{% macro period_input_name(index) -%}
    {{ return((config.get('period_inputs') or model.get('period_inputs'))[index][0]) }}
{%- endmacro %}


{#- The periods (as text) rebuilt whole: months that are not appended, other inputs' periods loaded since the
    watermark (but for keyed inputs, where the strategy replaces by key), periods named in --vars rebuild_periods.
    `months`: a relation holding period_appends_new_months, where the caller has it already. -#}
{% macro period_appends_full(months=none) -%}
    {%- set appends = config.get('period_appends') or model.get('period_appends') -%}
    select period from {{ months or '(' ~ period_appends_new_months() ~ ') as months' }} where not is_append
    {%- set keyed = (appends.get('keyed', []) if appends['by_key'] else []) | map(attribute='input') | list %}
    {%- for relation, input_period, loaded_at in period_inputs() %}
    {%- if period_input_name(loop.index0) != appends['input'] and period_input_name(loop.index0) not in keyed %}
    union
    {{ input_periods_sql(relation, input_period, loaded_at, this,
                         and_later=period_input_name(loop.index0) in period_inputs_and_later()) }}
    {%- endif %}{% endfor %}
    {%- for named in var('rebuild_periods', []) %}
    union
    select '{{ named }}'
    {%- endfor %}
{%- endmacro %}


{#- The appended months outside the periods rebuilt whole, as <group values>|<month> text. -#}
{% macro period_appends_appended(columns) -%}
    select {{ period_appends_key('months', columns) }}
    from ({{ period_appends_new_months() }}) as months
    where is_append and period not in ({{ period_appends_full() }})
{%- endmacro %}


{% macro period_appends_key(relation, columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- if relation %}{% set column = relation ~ '.' ~ column %}{% endif -%}
        {%- do parts.append("cast(" ~ column ~ " as " ~ dbt.type_string() ~ ")") -%}
        {%- if not loop.last %}{% do parts.append("'|'") %}{% endif -%}
    {%- endfor -%}
    {{ dbt.concat(parts) }}
{%- endmacro %}


{#- The plan read once per run (plan_cache), as text constants (see periods_to_rebuild): the periods rebuilt whole
    (`full`), the appended months outside them (`months`) with their <group values>|<month> keys (`keys`), and
    every period the run touches (`touched`: the appended months' periods, then `full` added). The new months are
    one CTE read by every part, and the model's latest month per group is read only in the periods they fall in (a
    first query): December's plan read the loan-level financed emissions of every year six times, 0.8 s (issue 9). -#}
{% macro period_appends_plan() -%}
    {%- set key = 'period_appends_plan:' ~ this -%}
    {%- set cache = plan_cache() -%}
    {%- if key not in cache -%}
        {%- set appends = config.get('period_appends') or model.get('period_appends') -%}
        {%- set text = dbt.type_string() -%}
        {%- set held_periods = [] -%}
        {%- for row in run_query(period_appends_new_periods()).columns[0].values() -%}
            {%- do held_periods.append(row.split(':', 1)[1]) -%}
        {%- endfor -%}
        {%- set sql -%}
            with months as ({{ period_appends_new_months(held_periods) }}),
            rebuilt as ({{ period_appends_full("months") }})
            select distinct {{ dbt.concat(["'full:'", 'period']) }} from rebuilt
            where period is not null
            union all
            select distinct {{ dbt.concat(["'keys:'", period_appends_key('months', appends['group'] + ['month'])]) }}
            from months
            where is_append and period not in (select period from rebuilt)
            union all
            select distinct {{ dbt.concat(["'months:'", 'cast(month as ' ~ text ~ ')']) }}
            from months
            where is_append and period not in (select period from rebuilt)
            union all
            select distinct {{ dbt.concat(["'touched:'", 'period']) }}
            from months
            where is_append
        {%- endset -%}
        {%- set plan = {'full': [], 'keys': [], 'months': [], 'touched': []} -%}
        {%- for row in run_query(sql).columns[0].values() | sort -%}
            {%- set kind, value = row.split(':', 1) -%}
            {%- do plan[kind].append(value) -%}
        {%- endfor -%}
        {%- do plan['touched'].extend(plan['full']) -%}
        {%- do plan['touched'].extend(period_appends_keyed_plan()['periods']) -%}
        {%- do cache.update({key: plan}) -%}
    {%- endif -%}
    {{ return(cache[key]) }}
{%- endmacro %}


{#- The periods of the appended input's rows loaded after the watermark, as 'p:'-prefixed text (so that dbt's result
    table keeps it text): a superset of the new months' periods. -#}
{% macro period_appends_new_periods() -%}
    {%- set relation, input_period, loaded_at = period_appends_input() -%}
    select distinct {{ dbt.concat(["'p:'", 'period']) }}
    from ({{ input_periods_sql(relation, input_period, loaded_at, this) }}) as new_periods(period)
{%- endmacro %}


{#- The rows' date column within the years a run touches, as a range on constants: DuckLake skips the files of other
    years by their statistics, which it cannot for an expression such as the year of the date (a year of loans at
    scale 1: 4-5 s read by range, 9-10 s by year). Only for periods that are years; true when nothing is touched
    (the caller's own predicate is then false). -#}
{% macro within_touched_years(year_of, touched) -%}
    {%- if year_of and touched -%}
    {%- set years = touched | map('int') | list -%}
    and {{ year_of }} >= cast('{{ years | min }}-01-01' as date) and {{ year_of }} < cast('{{ (years | max) + 1 }}-01-01' as date)
    {%- endif -%}
{%- endmacro %}


{#- A predicate over the rows of the appended input (or an input with the same month and group columns): true for
    every row on a full build, else for the periods rebuilt whole and the appended months. year_of: the rows' date
    column when the period is its year (see within_touched_years). -#}
{% macro periods_or_appended_months(period, year_of=none) -%}
    {%- if is_incremental() -%}
        {%- set appends = config.get('period_appends') or model.get('period_appends') -%}
        {%- set key = period_appends_key(none, appends['group'] + [appends['month']]) -%}
        {%- if this is string -%}  {#- a unit test: its inputs are CTEs, the plan stays SQL -#}
        (cast({{ period }} as {{ dbt.type_string() }}) in ({{ period_appends_full() }})
        or {{ key }} in ({{ period_appends_appended(appends['group'] + ['month']) }})
        or {{ period_appends_keyed_rows(period) }})
        {%- else -%}
        {%- set plan = period_appends_plan() -%}
        ({{ period_in(period, plan['full']) }}
        or ({{ period_in(appends['month'], plan['months']) }} and {{ period_in(key, plan['keys']) }})
        or {{ period_appends_keyed_rows(period) }})
        {#- the same rows, said again as one condition DuckLake can skip files by: DuckDB pushes no OR of several
            columns into a scan (December's loan-level financed emissions read every year, 13.5 M rows, for 1.4 M) -#}
        and {{ period_in(period, plan['touched']) }}
        {{ within_touched_years(year_of, plan['touched']) }}
        {%- endif -%}
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}


{#- A predicate over rows of any other input: the periods rebuilt whole and the periods of appended months. -#}
{% macro periods_touched(period, year_of=none) -%}
    {%- if is_incremental() -%}
        {%- if this is string -%}
        cast({{ period }} as {{ dbt.type_string() }}) in (
            {{ period_appends_full() }}
            union
            select period from ({{ period_appends_new_months() }}) as months where is_append
            union
            select period from ({{ period_appends_keyed() }}) as keyed)
        {%- else -%}
        {{ period_in(period, period_appends_plan()['touched']) }}
        {{ within_touched_years(year_of, period_appends_plan()['touched']) }}
        {%- endif -%}
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}


{#- The keyed inputs' rows loaded after the watermark, as (period, key_value) text. -#}
{% macro period_appends_keyed() -%}
    {%- set appends = config.get('period_appends') or model.get('period_appends') -%}
    {%- set keyed = appends.get('keyed', []) -%}
    {%- set selects = [] -%}
    {%- for relation, input_period, loaded_at in period_inputs() -%}
    {%- for input in keyed if input['input'] == period_input_name(loop.index0) -%}
        {%- do selects.append('select cast(' ~ input_period ~ ' as ' ~ dbt.type_string() ~ ') as period, cast('
            ~ input['key'] ~ ' as ' ~ dbt.type_string() ~ ') as key_value from ' ~ relation ~ ' where ' ~ loaded_at
            ~ ' > ' ~ incremental_watermark(this) ~ ' and ' ~ input_period ~ ' is not null') -%}
    {%- endfor -%}{%- endfor -%}
    {{ selects | join(' union ') if selects else 'select cast(null as ' ~ dbt.type_string() ~ ') as period, cast(null as '
       ~ dbt.type_string() ~ ') as key_value where 1 = 0' }}
{%- endmacro %}


{#- The keyed periods and values, read once per run (plan_cache) as text constants (empty where the strategy does not
    replace by key: the keyed inputs' periods are then rebuilt whole). -#}
{% macro period_appends_keyed_plan() -%}
    {%- set key = 'period_appends_keyed_plan:' ~ this -%}
    {%- set cache = plan_cache() -%}
    {%- if key not in cache -%}
        {%- set appends = config.get('period_appends') or model.get('period_appends') -%}
        {%- set plan = {'periods': [], 'values': []} -%}
        {%- if appends['by_key'] and appends.get('keyed') -%}
            {#- prefixed, so that dbt's result table keeps the text as text -#}
            {%- set sql -%}
                select distinct {{ dbt.concat(["'periods:'", 'period']) }} from ({{ period_appends_keyed() }}) as keyed
                union all
                select distinct {{ dbt.concat(["'values:'", 'key_value']) }} from ({{ period_appends_keyed() }}) as keyed
            {%- endset -%}
            {%- for row in run_query(sql).columns[0].values() | sort -%}
                {%- set kind, value = row.split(':', 1) -%}
                {%- do plan[kind].append(value) -%}
            {%- endfor -%}
        {%- endif -%}
        {%- do cache.update({key: plan}) -%}
    {%- endif -%}
    {{ return(cache[key]) }}
{%- endmacro %}


{#- A predicate over rows of the appended input: its `column` holds a keyed value and `period` is a keyed period
    (the rows recomputed by key). False without keyed inputs or where the strategy does not replace by key. -#}
{% macro period_appends_keyed_rows(period) -%}
    {%- set appends = config.get('period_appends') or model.get('period_appends') -%}
    {%- set columns = (appends.get('keyed', []) if appends['by_key'] else []) | map(attribute='column') | unique | list -%}
    {%- if not columns -%}
    (1 = 0)
    {%- elif this is string -%}  {#- a unit test: its inputs are CTEs, the plan stays SQL -#}
    (cast({{ period }} as {{ dbt.type_string() }}) in (select period from ({{ period_appends_keyed() }}) as keyed)
     and ({% for column in columns %}{% if not loop.first %} or {% endif -%}
        cast({{ column }} as {{ dbt.type_string() }}) in (select key_value from ({{ period_appends_keyed() }}) as keyed)
     {%- endfor %}))
    {%- else -%}
    {%- set plan = period_appends_keyed_plan() -%}
    ({{ period_in(period, plan['periods']) }} and ({% for column in columns -%}
        {% if not loop.first %} or {% endif %}{{ period_in(column, plan['values']) }}{% endfor %}))
    {%- endif -%}
{%- endmacro %}


{#- The strategy: empty the periods rebuilt whole, replace the rows of the keys the appended months carry, insert.
    Runs inside the materialization's transaction, before the watermark moves. -#}
{% macro get_incremental_replace_periods_or_keys_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set period_column = arg_dict['unique_key'] -%}
    {%- set keys = (config.get('period_appends') or model.get('period_appends'))['keys'] -%}
    {%- set dest_cols_csv = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- set plan = period_appends_plan() -%}
    delete from {{ target }}
    where {{ period_in(period_column, plan['full']) }}
        or ({{ period_in(period_column, plan['touched']) }} and exists (
            select 1 from {{ source }} as appended
            where appended.{{ period_column }} = {{ target }}.{{ period_column }}
            {%- for key in keys %}
                and appended.{{ key }} = {{ target }}.{{ key }}
            {%- endfor %}
        ));

    insert into {{ target }} ({{ dest_cols_csv }})
    select {{ dest_cols_csv }} from {{ source }}
{%- endmacro %}
