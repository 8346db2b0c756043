-- The listing programme's pipeline (凤凰行动: 上市后备企业库 → 辅导 → 申报 → 过会 → 上市; plan 2021-2025 section
-- 三(四) "深入实施“凤凰行动”计划"), per month × stage × board × district: the enterprises at each stage.
-- The listing file is a snapshot of the current stage (no stage history), so a month's stage is reconstructed:
--   上市                   listed on or before the month end (listing_date)
--   后备 / 辅导 / 申报 / 过会  the current stage of a not-yet-listed enterprise, from the month it entered the reserve
--                          pool (reserve_date) on; its earlier stages are not delivered
--   上市前(阶段不详)        a now-listed company in a month after it entered the pool but before it listed: it was
--                          at some stage before 上市, which the snapshot does not tell
-- An enterprise whose entry date is missing (reserve_date of a pool enterprise, listing_date of a listed one) is
-- counted in every month and missing_inputs says so. A table: every month is derived from the one snapshot, so
-- a new listing file changes every month (nothing here is delivered month by month).

with

months as (

    select report_month from {{ ref('int_capital_markets__report_months') }}

),

listings as (

    select credit_code, stage, board, listing_date, reserve_date
    from {{ ref('stg_enterprise__listing_statuses') }}

),

registries as (

    select credit_code, district_code from {{ ref('stg_enterprise__registries') }}

),

divisions as (

    select division_code, division_name from {{ ref('stg_public__divisions') }}

),

enterprise_months as (

    select
        months.report_month,
        listings.credit_code,
        listings.board,
        registries.district_code,
        case
            when listings.stage <> '上市' then listings.stage
            when listings.listing_date is null
                or listings.listing_date <= cast({{ dbt.last_day('months.report_month', 'month') }} as date)
                then '上市'
            else '上市前(阶段不详)'
        end as stage,
        case
            when listings.stage = '上市' and listings.listing_date is null then 'listing_date'
            when listings.stage <> '上市' and listings.reserve_date is null then 'reserve_date'
        end as missing_date,
        case when registries.credit_code is null then 1 else 0 end as is_unregistered
    from months
    cross join listings
    left join registries on registries.credit_code = listings.credit_code
    where
        case
            when listings.stage = '上市'
                then listings.listing_date is null
                    or listings.listing_date <= cast({{ dbt.last_day('months.report_month', 'month') }} as date)
                    or listings.reserve_date <= cast({{ dbt.last_day('months.report_month', 'month') }} as date)
            else listings.reserve_date is null
                or listings.reserve_date <= cast({{ dbt.last_day('months.report_month', 'month') }} as date)
        end

),

grouped as (

    select
        report_month,
        stage,
        board,
        district_code,
        count(*) as enterprise_count,
        sum(case when missing_date is not null then 1 else 0 end) as undated_count,
        max(missing_date) as missing_date,
        sum(is_unregistered) as unregistered_count
    from enterprise_months
    group by report_month, stage, board, district_code

),

final as (

    select
        grouped.report_month,
        grouped.stage,
        grouped.stage <> '上市' as is_reserve_pool,
        grouped.board,
        grouped.district_code,
        divisions.division_name as district_name,
        cast(grouped.enterprise_count as bigint) as enterprise_count,
        case
            when grouped.undated_count > 0 and grouped.unregistered_count > 0
                then 'stg_enterprise__listing_statuses.' || grouped.missing_date || ': '
                    || cast(grouped.undated_count as {{ dbt.type_string() }})
                    || ' enterprises undated, counted in every month, '
                    || 'stg_enterprise__registries: ' || cast(grouped.unregistered_count as {{ dbt.type_string() }})
                    || ' enterprises not registered (no district)'
            when grouped.undated_count > 0
                then 'stg_enterprise__listing_statuses.' || grouped.missing_date || ': '
                    || cast(grouped.undated_count as {{ dbt.type_string() }})
                    || ' enterprises undated, counted in every month'
            when grouped.unregistered_count > 0
                then 'stg_enterprise__registries: ' || cast(grouped.unregistered_count as {{ dbt.type_string() }})
                    || ' enterprises not registered (no district)'
        end as missing_inputs
    from grouped
    left join divisions on divisions.division_code = grouped.district_code

)

select * from final
