{#- Marts kept period by period (month, quarter, year): a run recomputes only the periods whose inputs were
    delivered (or delivered again) since the model was last built, and replaces those periods in place; history
    is not rebuilt for one new month.

    A model kept by month:
        {{ config(**incremental_by_period('report_month')) }}
        … from {{ ref('stg_bank__loans') }}
          where {{ periods_to_rebuild([[ref('stg_bank__loans'), 'report_month', 'loaded_at']], 'report_month') }}
    and it carries a column `inputs_loaded_at` per period: the newest delivery its figures include, which is also
    the watermark the next run compares against. A period is rebuilt when one of its inputs has rows loaded after
    the model's newest watermark. Inputs not listed (reference data, parameters in seeds) are not watched: after
    changing them, rebuild with `lakehouse dbt build --full-refresh --select <model>`, or name periods with
    `--vars '{rebuild_periods: ["2020-12-01"]}'` (a period's text, e.g. a month's first day or a year).

    DuckDB replaces a period by delete+insert in one transaction; Spark overwrites the period's partition. -#}

{% macro incremental_by_period(period_column) -%}
    {{ return(adapter.dispatch('incremental_by_period')(period_column)) }}
{%- endmacro %}

{% macro default__incremental_by_period(period_column) -%}
    {{ return({'materialized': 'incremental', 'incremental_strategy': 'delete+insert', 'unique_key': period_column,
               'on_schema_change': 'fail'}) }}
{%- endmacro %}

{% macro spark__incremental_by_period(period_column) -%}
    {{ return({'materialized': 'incremental', 'incremental_strategy': 'insert_overwrite',
               'partition_by': [period_column], 'file_format': 'delta', 'on_schema_change': 'fail'}) }}
{%- endmacro %}


{#- A predicate on `period`, an expression over the rows being filtered: true for every row on a full build, else
    for the periods to recompute. `inputs` lists [relation, the period as an expression over it, its load-time
    column] for each input whose deliveries should trigger a rebuild. -#}
{% macro periods_to_rebuild(inputs, period, watermark_column='inputs_loaded_at') -%}
    {%- if is_incremental() -%}
    {%- if execute and this is not string and watermark_column not in adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
        {{ exceptions.raise_compiler_error(this ~ " has no " ~ watermark_column ~ " column: it was built before it was"
            ~ " kept period by period. Rebuild it once: lakehouse dbt build --full-refresh --select " ~ this.identifier) }}
    {%- endif -%}
    ({{ period }} in (
        {%- for relation, input_period, loaded_at in inputs %}
        {% if not loop.first %}union {% endif -%}
        select {{ input_period }}
        from {{ relation }}
        group by {{ input_period }}
        having max({{ loaded_at }}) > (
            select coalesce(max({{ watermark_column }}), cast('1900-01-01 00:00:00' as timestamp)) from {{ this }}
        )
        {%- endfor %}
    )
    {%- for named in var('rebuild_periods', []) %}
        or cast({{ period }} as {{ dbt.type_string() }}) = '{{ named }}'
    {%- endfor %})
    {%- else -%}
    1 = 1
    {%- endif -%}
{%- endmacro %}
