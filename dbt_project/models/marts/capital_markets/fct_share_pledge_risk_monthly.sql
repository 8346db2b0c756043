{{ config(**incremental_by_period('report_month', inputs=[
    ['stg_enterprise__market_data', 'trade_month', '_loaded_at'],
    ['stg_enterprise__share_pledges', 'report_month', '_loaded_at']],
    not_watched=['stg_enterprise__listing_statuses', 'stg_enterprise__registries'])) }}

-- The equity-pledge ratio of listed companies as a risk signal (plan 2021-2025 section 三, 严守金融风险防控底线: 分类处置 … 上市公司股权质押等风险;
-- line 760), one row per listed company and month: every company with month-end market data or a pledge
-- outstanding in the month.
--   total_pledge_ratio_pct     Σ pledge_ratio_pct of the company's pledges outstanding in the month (shares pledged
--                              as % of total shares outstanding; the market-wide pledged share of the stock)
--   largest_pledgor_ratio_pct  the largest Σ pledge_ratio_pct of one pledgor (the most-pledged shareholder)
--   risk_level                 above_cap when total > pledge_ratio_cap_pct (50: the market-wide cap of 股票质押式回购
--                              交易及登记结算业务办法(2018年修订) art. 65), warning when total ≥ pledge_warning_ratio_pct
--                              (30), else normal — both [U], seed capital_markets_parameters
-- The pledge file lists only pledges outstanding, so a month it delivers nothing for cannot tell "no pledges" from
-- "not delivered": the ratio is then null and missing_inputs says so (never a silent 0); a month with pledges
-- delivered gives 0 to a listed company without one. Kept month by month: a month is recomputed when its market data
-- or pledges are (re)loaded; the seed, listing file and registry are not watched (rebuild with --full-refresh).

with

market_data as (

    select credit_code, trade_month as report_month, _loaded_at
    from {{ ref('stg_enterprise__market_data') }}
    where {{ periods_to_rebuild('trade_month') }}

),

pledges as (

    select report_month, credit_code, pledge_id, pledgor_name, pledge_ratio_pct, _loaded_at
    from {{ ref('stg_enterprise__share_pledges') }}
    where {{ periods_to_rebuild('report_month') }}

),

pledge_months as (

    select report_month from pledges group by report_month

),

companies as (

    select report_month, credit_code from market_data
    union
    select report_month, credit_code from pledges

),

by_pledgor as (

    select report_month, credit_code, pledgor_name, sum(pledge_ratio_pct) as pledgor_ratio_pct
    from pledges
    group by report_month, credit_code, pledgor_name

),

by_company as (

    select
        by_pledgor.report_month,
        by_pledgor.credit_code,
        count(*) as pledgor_count,
        sum(by_pledgor.pledgor_ratio_pct) as total_pledge_ratio_pct,
        max(by_pledgor.pledgor_ratio_pct) as largest_pledgor_ratio_pct
    from by_pledgor
    group by by_pledgor.report_month, by_pledgor.credit_code

),

pledge_counts as (

    select report_month, credit_code, count(*) as pledge_count
    from pledges
    group by report_month, credit_code

),

loaded as (

    select report_month, max(_loaded_at) as inputs_loaded_at
    from (
        select report_month, _loaded_at from market_data
        union all
        select report_month, _loaded_at from pledges
    ) as input_rows
    group by report_month

),

parameters as (

    select
        max(case when parameter = 'pledge_warning_ratio_pct' then value end) as warning_ratio_pct,
        max(case when parameter = 'pledge_ratio_cap_pct' then value end) as cap_ratio_pct
    from {{ ref('capital_markets_parameters') }}

),

listings as (

    select credit_code, stock_code, enterprise_name from {{ ref('stg_enterprise__listing_statuses') }}

),

registries as (

    select credit_code, district_code from {{ ref('stg_enterprise__registries') }}

),

ratios as (

    select
        companies.report_month,
        companies.credit_code,
        listings.stock_code,
        listings.enterprise_name,
        registries.district_code,
        case when pledge_months.report_month is not null
            then cast(coalesce(pledge_counts.pledge_count, 0) as bigint) end as pledge_count,
        case when pledge_months.report_month is not null
            then cast(coalesce(by_company.pledgor_count, 0) as bigint) end as pledgor_count,
        case when pledge_months.report_month is not null
            then cast(coalesce(by_company.total_pledge_ratio_pct, 0) as decimal(9, 4)) end as total_pledge_ratio_pct,
        case when pledge_months.report_month is not null
            then cast(coalesce(by_company.largest_pledgor_ratio_pct, 0) as decimal(9, 4)) end
            as largest_pledgor_ratio_pct,
        cast(parameters.warning_ratio_pct as decimal(9, 4)) as warning_ratio_pct,
        cast(parameters.cap_ratio_pct as decimal(9, 4)) as cap_ratio_pct,
        case when pledge_months.report_month is null
            then 'stg_enterprise__share_pledges: no pledges delivered for the month' end as missing_pledges,
        case when exists_market.has_market_data is null
            then 'stg_enterprise__market_data: no month-end market data for the company' end as missing_market_data,
        loaded.inputs_loaded_at
    from companies
    cross join parameters
    inner join loaded on loaded.report_month = companies.report_month
    left join pledge_months on pledge_months.report_month = companies.report_month
    left join pledge_counts
        on pledge_counts.report_month = companies.report_month and pledge_counts.credit_code = companies.credit_code
    left join by_company
        on by_company.report_month = companies.report_month and by_company.credit_code = companies.credit_code
    left join (
        select distinct report_month, credit_code, true as has_market_data from market_data
    ) as exists_market
        on exists_market.report_month = companies.report_month and exists_market.credit_code = companies.credit_code
    left join listings on listings.credit_code = companies.credit_code
    left join registries on registries.credit_code = companies.credit_code

),

final as (

    select
        report_month,
        credit_code,
        stock_code,
        enterprise_name,
        district_code,
        pledge_count,
        pledgor_count,
        total_pledge_ratio_pct,
        largest_pledgor_ratio_pct,
        warning_ratio_pct,
        cap_ratio_pct,
        case
            when total_pledge_ratio_pct is null then null
            when total_pledge_ratio_pct > cap_ratio_pct then 'above_cap'
            when total_pledge_ratio_pct >= warning_ratio_pct then 'warning'
            else 'normal'
        end as risk_level,
        case
            when missing_pledges is not null and missing_market_data is not null
                then missing_pledges || ', ' || missing_market_data
            else coalesce(missing_pledges, missing_market_data)
        end as missing_inputs,
        inputs_loaded_at
    from ratios

)

select * from final
