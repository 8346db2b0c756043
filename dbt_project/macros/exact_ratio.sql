{#- numerator ÷ denominator rounded half-up to `scale` places, as an exact DECIMAL(38, scale); null when the
    denominator is 0. For non-negative amounts (balances, counts).
    DuckDB divides DECIMALs in DOUBLE, so its version divides scaled integers; engines whose DECIMAL division
    is exact (Spark) use plain division. -#}
{% macro exact_ratio(numerator, denominator, scale=6) -%}
    {{ return(adapter.dispatch('exact_ratio')(numerator, denominator, scale)) }}
{%- endmacro %}

{% macro default__exact_ratio(numerator, denominator, scale) -%}
    case when {{ denominator }} <> 0
        then cast(round(cast({{ numerator }} as decimal(38, 18)) / {{ denominator }}, {{ scale }}) as decimal(38, {{ scale }}))
    end
{%- endmacro %}

{% macro duckdb__exact_ratio(numerator, denominator, scale) -%}
    {%- set n = "cast((" ~ numerator ~ ") * 10000000000 as hugeint)" -%}
    {%- set d = "cast((" ~ denominator ~ ") * 10000000000 as hugeint)" -%}
    case when {{ denominator }} <> 0
        then cast(({{ n }} * {{ 2 * 10 ** scale }} + {{ d }}) // (2 * {{ d }}) as decimal(38, 0))
             * cast('{{ "%.*f" | format(scale, 10 ** -scale) }}' as decimal(38, {{ scale }}))
    end
{%- endmacro %}
