-- Direct financing per month and financing type, and its cumulation against the plan's 5000 亿元
-- (湖州市绿色金融发展“十四五”规划 2021-2025, section 二(三) 主要目标 "累计完成直接融资5000亿元以上"; indicator table 十四五
-- row 6 累计实现直接融资; footnote [3] of the 十三五 table: 公司债, 银行间市场债券, 企业债, IPO and 再融资):
--   amount_yuan                    Σ amount of the type's events in the month (financing_month)
--   cumulative_amount_yuan         Σ amount of the type's events from cumulation_start to the month; null before it
--   direct_financing_cumulative_yuan  Σ cumulative_amount_yuan over the types the plan counts (seed
--                                  plan_direct_financing_types: ABS is not in footnote [3]) — the plan's indicator,
--                                  the same on every type's row of the month
--   progress_pct                   direct_financing_cumulative_yuan ÷ (target 亿元 × 1e8) × 100, 4 places half up
-- cumulation_start is the plan's: seed plan_indicator_sources (十四五, direct_financing_cumulative) = 2021-01, the
-- 14th plan counts from 0 (the 2020 value 3995.42 亿元 is the 13th plan's own cumulation); the target is
-- stg_public__plan_indicators (十四五 累计实现直接融资, value_2025_target). One data, one source: both are read, not
-- repeated. A table: a cumulative figure needs every month from the start, so a month cannot be rebuilt alone.

with

months as (

    select report_month from {{ ref('int_capital_markets__report_months') }}

),

types as (

    select financing_type, counts_as_direct_financing from {{ ref('plan_direct_financing_types') }}

),

cumulation as (

    select max(cumulation_start) as cumulation_start
    from {{ ref('plan_indicator_sources') }}
    where plan_period = '十四五' and measure_key = 'direct_financing_cumulative'

),

plan_target as (

    select max(value_2025_target) * 100000000 as target_yuan
    from {{ ref('stg_public__plan_indicators') }}
    where plan_period = '十四五' and indicator_name = '累计实现直接融资'

),

financings as (

    select financing_month, financing_type, amount_yuan
    from {{ ref('stg_enterprise__direct_financings') }}

),

monthly as (

    select financing_month, financing_type, count(*) as event_count, sum(amount_yuan) as amount_yuan
    from financings
    group by financing_month, financing_type

),

by_type as (

    select
        months.report_month,
        types.financing_type,
        types.counts_as_direct_financing,
        cumulation.cumulation_start,
        coalesce(max(case when monthly.financing_month = months.report_month then monthly.event_count end), 0)
            as event_count,
        coalesce(max(case when monthly.financing_month = months.report_month then monthly.amount_yuan end), 0)
            as amount_yuan,
        case when months.report_month >= cumulation.cumulation_start
            then coalesce(sum(case when monthly.financing_month >= cumulation.cumulation_start
                                   then monthly.amount_yuan end), 0) end as cumulative_amount_yuan
    from months
    cross join types
    cross join cumulation
    left join monthly
        on monthly.financing_type = types.financing_type
        and monthly.financing_month <= months.report_month
    group by months.report_month, types.financing_type, types.counts_as_direct_financing,
        cumulation.cumulation_start

),

with_total as (

    select
        by_type.*,
        sum(case when counts_as_direct_financing then cumulative_amount_yuan end)
            over (partition by report_month) as direct_financing_cumulative_yuan
    from by_type

),

final as (

    select
        with_total.report_month,
        with_total.financing_type,
        with_total.counts_as_direct_financing,
        cast(with_total.event_count as bigint) as event_count,
        cast(with_total.amount_yuan as decimal(24, 2)) as amount_yuan,
        with_total.cumulation_start,
        cast(with_total.cumulative_amount_yuan as decimal(24, 2)) as cumulative_amount_yuan,
        cast(with_total.direct_financing_cumulative_yuan as decimal(24, 2)) as direct_financing_cumulative_yuan,
        cast(plan_target.target_yuan as decimal(24, 2)) as target_yuan,
        cast({{ exact_ratio('with_total.direct_financing_cumulative_yuan * 100', 'plan_target.target_yuan', 4) }}
             as decimal(12, 4)) as progress_pct,
        case
            when with_total.cumulation_start is null
                then 'plan_indicator_sources: no cumulation start for direct_financing_cumulative'
            when with_total.report_month < with_total.cumulation_start
                then 'not applicable: cumulation starts '
                    || substring(cast(with_total.cumulation_start as {{ dbt.type_string() }}), 1, 7)
            when plan_target.target_yuan is null
                then 'stg_public__plan_indicators: no 十四五 target for 累计实现直接融资'
        end as missing_inputs
    from with_total
    cross join plan_target

)

select * from final
