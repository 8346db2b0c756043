-- The plan's indicators against their targets (规划指标进度): every indicator of the two indicator tables of
-- 湖州市绿色金融发展“十四五”规划 (2021-2025) (../shared/reference/huzhou-green-finance-plan-2021-2025.txt) per report
-- month from 2019-01, with the plan's figures, the value the lake computes (int_plan__lake_measures_monthly, mapped by
-- seed plan_indicator_sources and converted to the plan's unit), and, for the 14th-plan targets, the trajectory
-- from the 2020 value to the 2025 target, progress and whether the month is on track. Months of the plan period are
-- t = months since 2020-12 (plan_base_month) ÷ months from 2020-12 to 2025-12 (60), for months 2021-01 .. 2025-12:
--   trajectory compound             value_2020 × (target ÷ value_2020) ^ t   (constant growth: amounts, counts)
--   trajectory linear               value_2020 + (target − value_2020) × t   (percentages: equal point steps)
--   trajectory cumulative_from_zero target × t   (a total accumulated within 2021-2025, e.g. direct financing)
--   trajectory constant             target       (a ceiling, 以下)
--   progress_pct  reach: (value − value_2020) ÷ (target − value_2020) × 100; cumulative_from_zero: value ÷ target
--                 × 100; ceiling: none. 2 places half up.
--   on_track      reach: value at or beyond the trajectory in the target's direction; ceiling: value ≤ target
-- 13th-plan rows have no target: the lake value is shown beside the plan's 2015 and 2020 values, with the check of
-- the plan's stated average growth against its endpoints (int_plan__indicators).
-- A table, rebuilt in full: the cumulative and year-on-year measures need the history, and the mart is small
-- (23 indicators a month); the loan reports are aggregated month by month upstream (int_plan__loan_measures_monthly).

with

indicators as (

    select * from {{ ref('int_plan__indicators') }}

),

measures as (

    select * from {{ ref('int_plan__lake_measures_monthly') }}

),

parameters as (

    select * from {{ ref('plan_progress_parameters') }}

),

months as (

    select distinct report_month from measures

),

valued as (

    select
        months.report_month,
        indicators.*,
        case
            when indicators.measure_key = 'none' or measures.measure_value is null then null
            when indicators.unit_divisor = 1 then cast(measures.measure_value as decimal(20, 4))
            else cast({{ exact_ratio('measures.measure_value', 'indicators.unit_divisor', 4) }} as decimal(20, 4))
        end as lake_value,
        case
            when indicators.measure_key = 'none' then indicators.missing_source
            when measures.measure_key is null then 'int_plan__lake_measures_monthly: measure not computed for the month'
            else measures.missing_inputs
        end as missing_inputs,
        {{ dbt.datediff('parameters.plan_base_month', 'months.report_month', 'month') }} as months_into_plan,
        {{ dbt.datediff('parameters.plan_base_month', 'parameters.plan_target_month', 'month') }} as plan_months
    from indicators
    cross join months
    cross join parameters
    left join measures
        on measures.measure_key = indicators.measure_key
        and measures.report_month = months.report_month
        and coalesce(measures.cumulation_start, cast('1900-01-01' as date))
            = coalesce(indicators.cumulation_start, cast('1900-01-01' as date))

),

with_trajectory as (

    select
        valued.*,
        (months_into_plan > 0 and months_into_plan <= plan_months and trajectory_method <> 'none') as is_in_plan_period,
        case
            when not (months_into_plan > 0 and months_into_plan <= plan_months) then null
            when trajectory_method = 'compound' and value_2020 > 0 and value_2025_target > 0
                then value_2020 * power(cast(value_2025_target as double) / cast(value_2020 as double),
                                        cast(months_into_plan as double) / plan_months)
            when trajectory_method = 'linear'
                then value_2020 + (value_2025_target - value_2020) * cast(months_into_plan as double) / plan_months
            when trajectory_method = 'cumulative_from_zero'
                then value_2025_target * cast(months_into_plan as double) / plan_months
            when trajectory_method = 'constant' then value_2025_target
        end as trajectory_raw
    from valued

),

final as (

    select
        report_month,
        plan_period,
        seq,
        indicator_name,
        unit,
        cast(value_2015 as decimal(18, 4)) as value_2015,
        value_2015_as_of,
        cast(value_2020 as decimal(18, 4)) as value_2020,
        cast(value_2025_target as decimal(18, 4)) as value_2025_target,
        target_qualifier,
        measure_key,
        source_dataset,
        mapping_confidence,
        lake_value,
        missing_inputs,
        trajectory_method,
        target_type,
        cast(round(trajectory_raw, 4) as decimal(20, 4)) as trajectory_value,
        cast(case
            when not is_in_plan_period or lake_value is null or target_type <> 'reach' then null
            when trajectory_method = 'cumulative_from_zero' and value_2025_target <> 0
                then round(cast(lake_value as double) / cast(value_2025_target as double) * 100, 2)
            when trajectory_method in ('compound', 'linear') and value_2025_target <> value_2020
                then round(cast(lake_value - value_2020 as double)
                           / cast(value_2025_target - value_2020 as double) * 100, 2)
        end as decimal(12, 2)) as progress_pct,
        case
            when not is_in_plan_period or lake_value is null or trajectory_raw is null then null
            when target_type = 'ceiling' then lake_value <= value_2025_target
            when trajectory_method = 'cumulative_from_zero' or value_2025_target >= value_2020
                then lake_value >= round(trajectory_raw, 4)
            else lake_value <= round(trajectory_raw, 4)
        end as on_track,
        growth_years,
        growth_basis,
        implied_growth_rate,
        stated_growth_rate,
        growth_rate_difference,
        stated_growth_consistent
    from with_trajectory

)

select * from final
