-- Every indicator of the plan's two tables (湖州市绿色金融发展“十四五”规划 2021-2025: 13th-plan table 2015 → 2020 with
-- stated average growth; 14th-plan table 2020 → 2025 targets) with how the lake computes it (seed
-- plan_indicator_sources) and the check of the plan's stated growth against its own endpoints:
--   years           whole years from the 2015 value's date to the base month (2015-12-31 → 5; green loans, whose
--                   "2015" figure is of 2018-01-01 (footnote [2]) → 3), months ÷ 12 rounded
--   growth_pct      implied = ((value_2020 ÷ value_2015) ^ (1 ÷ years) − 1) × 100, against stated_avg_growth_pct
--   change_pts      implied = (value_2020 − value_2015) ÷ years, against stated_avg_change_pts (〔 〕 = 年均增减)
--   consistent      |implied − stated| ≤ growth_tolerance_pts (seed plan_progress_parameters [U])

with

indicators as (

    select * from {{ ref('stg_public__plan_indicators') }}

),

sources as (

    select * from {{ ref('plan_indicator_sources') }}

),

parameters as (

    select * from {{ ref('plan_progress_parameters') }}

),

joined as (

    select
        indicators.plan_period,
        indicators.seq,
        indicators.indicator_name,
        indicators.unit,
        indicators.target_qualifier,
        indicators.value_2015,
        indicators.value_2015_as_of,
        indicators.value_2020,
        indicators.value_2025_target,
        indicators.stated_avg_growth_pct,
        indicators.stated_avg_change_pts,
        sources.measure_key,
        sources.unit_divisor,
        sources.cumulation_start,
        sources.trajectory_method,
        sources.target_type,
        sources.source_dataset,
        sources.missing_source,
        sources.confidence as mapping_confidence,
        parameters.growth_tolerance_pts,
        case
            when indicators.value_2015_as_of is not null
                then round({{ dbt.datediff('indicators.value_2015_as_of', 'parameters.plan_base_month', 'month') }}
                           / 12.0, 0)
        end as growth_years
    from indicators
    inner join sources
        on sources.plan_period = indicators.plan_period
        and sources.seq = indicators.seq
    cross join parameters

),

checked as (

    select
        joined.*,
        case
            when stated_avg_growth_pct is not null then 'growth_pct'
            when stated_avg_change_pts is not null then 'change_pts'
        end as growth_basis,
        case
            when value_2015 is null or value_2015 = 0 or growth_years is null or growth_years <= 0 then null
            when stated_avg_growth_pct is not null
                then round((power(cast(value_2020 as double) / cast(value_2015 as double), 1.0 / growth_years) - 1)
                           * 100, 2)
            when stated_avg_change_pts is not null
                then round(cast(value_2020 - value_2015 as double) / growth_years, 2)
        end as implied_growth_rate,
        coalesce(stated_avg_growth_pct, stated_avg_change_pts) as stated_growth_rate
    from joined

),

final as (

    select
        plan_period,
        seq,
        indicator_name,
        unit,
        target_qualifier,
        value_2015,
        value_2015_as_of,
        value_2020,
        value_2025_target,
        measure_key,
        unit_divisor,
        cumulation_start,
        trajectory_method,
        target_type,
        source_dataset,
        missing_source,
        mapping_confidence,
        cast(growth_years as integer) as growth_years,
        growth_basis,
        cast(implied_growth_rate as decimal(9, 2)) as implied_growth_rate,
        cast(stated_growth_rate as decimal(9, 2)) as stated_growth_rate,
        cast(implied_growth_rate - stated_growth_rate as decimal(9, 2)) as growth_rate_difference,
        case
            when implied_growth_rate is null or stated_growth_rate is null then null
            else abs(implied_growth_rate - stated_growth_rate) <= growth_tolerance_pts
        end as stated_growth_consistent
    from checked

)

select * from final
