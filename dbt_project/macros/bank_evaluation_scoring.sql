{#- Sub-score functions of the green-finance evaluation of banks (PBoC 银发〔2021〕142号). The scheme publishes the
    indicators and their weights but not the function that turns an indicator into points ([U],
    ../shared/reference/domain-methods.md "Evaluations and scores"), so the function is chosen at run time by the
    seed parameter bank_green_evaluation_parameters.scoring_method: every method is written here and `method`
    (a column holding the parameter) picks one, so adding a method is one more `when` branch plus one more
    accepted value in the seed's tests.
      min_max     100 × (value − min) ÷ (max − min) over the rows of the partition with a value (the evaluated
                  banks of the quarter); lower_is_better reverses it: 100 × (max − value) ÷ (max − min);
                  100 for every bank when all values are equal (no bank is behind another)
      percentile  100 × (rank − 1) ÷ (n − 1), rank ascending (descending when lower is better) among the n rows
                  with a value, ties at their lowest rank (percent rank); 100 for a lone bank
    A row without a value has no sub-score (null), never 0. Portable SQL (window functions, explicit null order). -#}
{% macro bank_evaluation_sub_score(value, method, partition_by, lower_is_better=false) -%}
    {%- set v = "cast(" ~ value ~ " as double)" -%}
    {%- set w = "over (partition by " ~ partition_by ~ ")" -%}
    case
        when {{ value }} is null then null
        when {{ method }} = 'min_max' then
            case
                when max({{ v }}) {{ w }} = min({{ v }}) {{ w }} then 100.0
                {%- if lower_is_better %}
                else 100.0 * (max({{ v }}) {{ w }} - {{ v }}) / (max({{ v }}) {{ w }} - min({{ v }}) {{ w }})
                {%- else %}
                else 100.0 * ({{ v }} - min({{ v }}) {{ w }}) / (max({{ v }}) {{ w }} - min({{ v }}) {{ w }})
                {%- endif %}
            end
        when {{ method }} = 'percentile' then
            case
                when count({{ value }}) {{ w }} = 1 then 100.0
                else 100.0 * (rank() over (partition by {{ partition_by }}
                                           order by {{ v }} {{ 'desc' if lower_is_better else 'asc' }} nulls last) - 1)
                     / (count({{ value }}) {{ w }} - 1)
            end
    end
{%- endmacro %}


{#- The own-history sub-score ([S] option: part of each indicator's weight scored against the bank's own previous
    quarters): min-max of the value within the bank's own values over the window (its min and max, the current
    quarter included); 100 when they are equal (e.g. the bank's first quarter). -#}
{% macro bank_evaluation_own_history_score(value, own_min, own_max, lower_is_better=false) -%}
    case
        when {{ value }} is null then null
        when {{ own_max }} = {{ own_min }} then 100.0
        {%- if lower_is_better %}
        else 100.0 * (cast({{ own_max }} as double) - cast({{ value }} as double))
             / (cast({{ own_max }} as double) - cast({{ own_min }} as double))
        {%- else %}
        else 100.0 * (cast({{ value }} as double) - cast({{ own_min }} as double))
             / (cast({{ own_max }} as double) - cast({{ own_min }} as double))
        {%- endif %}
    end
{%- endmacro %}
