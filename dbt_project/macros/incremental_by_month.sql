{#- Marts kept month by month: a run recomputes only the months whose input was delivered (or delivered again)
    since the mart was last built, and replaces those months in place; history is not rebuilt for one new month.

    A monthly mart:
        {{ config(**monthly_incremental()) }}
        … from {{ ref('stg_bank__loans') }} where {{ months_to_rebuild(ref('stg_bank__loans')) }}
    and carries `max(loaded_at) as inputs_loaded_at` per month: the newest delivery its figures include, which is
    also the watermark the next run compares against. A month is rebuilt when its input has rows loaded after the
    mart's newest watermark. Reference data and parameters (divisions, seeds) are not watched: after changing them,
    rebuild with `lakehouse dbt build --full-refresh --select <mart>`, or name months with
    `--vars '{rebuild_months: ["2020-12-01"]}'`.

    DuckDB replaces a month by delete+insert in one transaction; Spark overwrites the month's partition. -#}

{% macro monthly_incremental(month_column='report_month') -%}
    {{ return(adapter.dispatch('monthly_incremental')(month_column)) }}
{%- endmacro %}

{% macro default__monthly_incremental(month_column) -%}
    {{ return({'materialized': 'incremental', 'incremental_strategy': 'delete+insert', 'unique_key': month_column,
               'on_schema_change': 'fail'}) }}
{%- endmacro %}

{% macro spark__monthly_incremental(month_column) -%}
    {{ return({'materialized': 'incremental', 'incremental_strategy': 'insert_overwrite',
               'partition_by': [month_column], 'file_format': 'delta', 'on_schema_change': 'fail'}) }}
{%- endmacro %}


{#- A predicate on the input's month column: every month on a full build, else the months to recompute. -#}
{% macro months_to_rebuild(input, month_column='report_month', loaded_at_column='loaded_at',
                           watermark_column='inputs_loaded_at') -%}
    {%- if is_incremental() -%}
    {%- set named = var('rebuild_months', []) -%}
    ({{ month_column }} in (
        select {{ month_column }}
        from {{ input }}
        group by {{ month_column }}
        having max({{ loaded_at_column }}) > (
            select coalesce(max({{ watermark_column }}), cast('1900-01-01 00:00:00' as timestamp)) from {{ this }}
        )
    )
    {%- for month in named %}
        or {{ month_column }} = cast('{{ month }}' as date)
    {%- endfor %})
    {%- else -%}
    1 = 1
    {%- endif -%}
{%- endmacro %}
