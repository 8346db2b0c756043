-- The report months of the capital-markets theme: every month from the first to the latest month any of its
-- monthly inputs delivers (month-end market data, share pledges, direct financing events), without gaps, so that
-- a month with no event still has its row (a cumulative figure carried, a pool counted). A table: a few hundred
-- rows, rebuilt in full.

with

input_months as (

    select trade_month as report_month from {{ ref('stg_enterprise__market_data') }}
    union all
    select report_month from {{ ref('stg_enterprise__share_pledges') }}
    union all
    select financing_month as report_month from {{ ref('stg_enterprise__direct_financings') }}

),

bounds as (

    select min(report_month) as first_month, max(report_month) as last_month
    from input_months

),

digits as (

    select 0 as d union all select 1 union all select 2 union all select 3 union all select 4
    union all select 5 union all select 6 union all select 7 union all select 8 union all select 9

),

offsets as (

    -- 0 .. 999 months (83 years)
    select hundreds.d * 100 + tens.d * 10 + units.d as month_offset
    from digits as hundreds
    cross join digits as tens
    cross join digits as units

),

final as (

    select cast({{ dbt.dateadd('month', 'offsets.month_offset', 'bounds.first_month') }} as date) as report_month
    from bounds
    cross join offsets
    where bounds.first_month is not null
        and cast({{ dbt.dateadd('month', 'offsets.month_offset', 'bounds.first_month') }} as date)
            <= bounds.last_month

)

select * from final
