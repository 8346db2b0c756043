{#- Helpers of the risk early warning theme (models/intermediate/risk, models/marts/risk). -#}


{#- The value of a parameter of seed risk_parameters, as a scalar subquery. -#}
{% macro risk_parameter(name) -%}
    (select value from {{ ref('risk_parameters') }} where parameter = '{{ name }}')
{%- endmacro %}


{#- Rank of a five-category classification (正常 1 < 关注 2 < 次级 3 < 可疑 4 < 损失 5); loan five-category rule
    effective 2023-07-01 (../shared/reference/domain-methods.md "Loan five-category classification" [S]). -#}
{% macro risk_five_category_rank(column) -%}
    case {{ column }}
        when '正常' then 1
        when '关注' then 2
        when '次级' then 3
        when '可疑' then 4
        when '损失' then 5
    end
{%- endmacro %}


{#- A comma-separated list of the labels whose condition holds, null when none: `items` is a list of
    [condition, label]. Portable (concat of '' or ',label', first comma cut). -#}
{% macro risk_label_list(items) -%}
    {%- set parts = ["''"] -%}
    {%- for item in items -%}
        {%- do parts.append("case when " ~ item[0] ~ " then '," ~ item[1] ~ "' else '' end") -%}
    {%- endfor -%}
    nullif(substring({{ dbt.concat(parts) }}, 2), '')
{%- endmacro %}


{#- Guarantee-chain walk: every path from each root along the undirected guarantee links of its month, up to
    `max_hops` links, never visiting a firm twice on a path (cycle protection: the path string holds the firms
    visited). A subquery with columns report_month, chain_root_credit_code, member_credit_code, hop_distance,
    guarantee_path; the root itself is the row with hop 0.
      roots:  relation/CTE with report_month, root_credit_code, max_hops
      edges:  relation/CTE with report_month, from_credit_code, to_credit_code (both directions present)
    DuckDB (and Postgres, Spark >= 4.1) run it as WITH RECURSIVE; Spark 3.x has no recursive CTE (SPARK-24497
    landed only in the 4.x line), so its version unrolls the walk into var('risk_max_contagion_hops', 6) joins;
    seed test risk_parameters__hops_at_least_1 keeps contagion_max_hops within that bound. -#}
{% macro risk_guarantee_chain_walk(roots, edges) -%}
    {{ return(adapter.dispatch('risk_guarantee_chain_walk')(roots, edges)) }}
{%- endmacro %}

{% macro default__risk_guarantee_chain_walk(roots, edges) -%}
    (
        with recursive walk (report_month, chain_root_credit_code, member_credit_code, hop_distance, max_hops,
                             guarantee_path) as (
            select
                report_month,
                root_credit_code,
                root_credit_code,
                0,
                max_hops,
                {{ dbt.concat(["'/'", 'root_credit_code', "'/'"]) }}
            from {{ roots }}
            union all
            select
                walk.report_month,
                walk.chain_root_credit_code,
                links.to_credit_code,
                walk.hop_distance + 1,
                walk.max_hops,
                {{ dbt.concat(['walk.guarantee_path', 'links.to_credit_code', "'/'"]) }}
            from walk
            inner join {{ edges }} as links
                on links.report_month = walk.report_month
                and links.from_credit_code = walk.member_credit_code
            where walk.hop_distance < walk.max_hops
                and {{ dbt.position(dbt.concat(["'/'", 'links.to_credit_code', "'/'"]), 'walk.guarantee_path') }} = 0
        )
        select report_month, chain_root_credit_code, member_credit_code, hop_distance, guarantee_path from walk
    )
{%- endmacro %}

{% macro spark__risk_guarantee_chain_walk(roots, edges) -%}
    {%- set max_compiled = var('risk_max_contagion_hops', 6) | int -%}
    (
        with walk_0 as (
            select
                report_month,
                root_credit_code as chain_root_credit_code,
                root_credit_code as member_credit_code,
                0 as hop_distance,
                max_hops,
                {{ dbt.concat(["'/'", 'root_credit_code', "'/'"]) }} as guarantee_path
            from {{ roots }}
        ),
        {%- for hop in range(1, max_compiled + 1) %}
        walk_{{ hop }} as (
            select
                walk.report_month,
                walk.chain_root_credit_code,
                links.to_credit_code as member_credit_code,
                {{ hop }} as hop_distance,
                walk.max_hops,
                {{ dbt.concat(['walk.guarantee_path', 'links.to_credit_code', "'/'"]) }} as guarantee_path
            from walk_{{ hop - 1 }} as walk
            inner join {{ edges }} as links
                on links.report_month = walk.report_month
                and links.from_credit_code = walk.member_credit_code
            where walk.hop_distance < walk.max_hops
                and {{ dbt.position(dbt.concat(["'/'", 'links.to_credit_code', "'/'"]), 'walk.guarantee_path') }} = 0
        ){{ ',' if not loop.last }}
        {%- endfor %}
        {%- for hop in range(0, max_compiled + 1) %}
        {{ 'union all' if not loop.first }}
        select report_month, chain_root_credit_code, member_credit_code, hop_distance, guarantee_path
        from walk_{{ hop }}
        {%- endfor %}
    )
{%- endmacro %}
