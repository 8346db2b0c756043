{{ config(**incremental_by_period('report_month', inputs=[['stg_enterprise__market_data', 'trade_month', '_loaded_at']],
    not_watched=['stg_enterprise__listing_statuses', 'stg_public__plan_indicators'])) }}

-- Listed companies and their market value against the plan's targets, one row per month of month-end market data
-- (湖州市绿色金融发展“十四五”规划 2021-2025, section 二(三) 主要目标 "境内外上市公司累计达到70家以上 … 上市公司市值达到5000亿元
-- 左右"; indicator table 十四五 row 5):
--   listed_company_count        enterprises at stage 上市 in the listing file with a listing date on or before the
--                               month end (the plan's 境内外上市公司数; the file is a current snapshot, so a delisted
--                               company is not seen)
--   total_market_value_yuan     Σ month-end market capitalisation of the month's market data (market_cap_yuan, in
--                               yuan); null when a listed company has no market data for the month
--   listed_progress_pct         listed_company_count ÷ target (70, stg_public__plan_indicators 十四五 境内外上市公司数)
--                               × 100, 4 places half up
--   market_value_progress_pct   total_market_value_yuan ÷ target (5000 亿元, seed capital_markets_parameters: the
--                               target is in the plan's text, not its tables) × 100, 4 places half up
-- Kept month by month: a month is recomputed when its market data is (re)loaded. The listing file, the plan's
-- indicators and the seed are not watched: after a new listing file, rebuild with --full-refresh.

with

market_data as (

    select credit_code, trade_month, market_cap_yuan, _loaded_at
    from {{ ref('stg_enterprise__market_data') }}
    where {{ periods_to_rebuild('trade_month') }}

),

months as (

    select
        trade_month as report_month,
        count(distinct credit_code) as market_data_company_count,
        sum(market_cap_yuan) as market_cap_yuan,
        max(_loaded_at) as inputs_loaded_at
    from market_data
    group by trade_month

),

listed as (

    select credit_code, listing_date
    from {{ ref('stg_enterprise__listing_statuses') }}
    where stage = '上市' and listing_date is not null

),

listed_months as (

    select
        months.report_month,
        listed.credit_code,
        case when companies_with_data.credit_code is not null then 1 else 0 end as has_market_data
    from months
    inner join listed on listed.listing_date <= cast({{ dbt.last_day('months.report_month', 'month') }} as date)
    left join (select distinct trade_month, credit_code from market_data) as companies_with_data
        on companies_with_data.trade_month = months.report_month
        and companies_with_data.credit_code = listed.credit_code

),

listed_counts as (

    select
        report_month,
        count(*) as listed_company_count,
        sum(has_market_data) as listed_with_market_data_count
    from listed_months
    group by report_month

),

plan_target as (

    select max(value_2025_target) as target_listed_count, max(value_2020) as listed_count_2020
    from {{ ref('stg_public__plan_indicators') }}
    where plan_period = '十四五' and indicator_name = '境内外上市公司数'

),

parameters as (

    select max(case when parameter = 'listed_market_value_target' then value end) as target_market_value_yuan
    from {{ ref('capital_markets_parameters') }}

),

counted as (

    select
        months.report_month,
        cast(coalesce(listed_counts.listed_company_count, 0) as bigint) as listed_company_count,
        cast(coalesce(listed_counts.listed_with_market_data_count, 0) as bigint) as listed_with_market_data_count,
        cast(months.market_data_company_count as bigint) as market_data_company_count,
        case when coalesce(listed_counts.listed_with_market_data_count, 0)
                  = coalesce(listed_counts.listed_company_count, 0)
            then cast(months.market_cap_yuan as decimal(24, 2)) end as total_market_value_yuan,
        cast(plan_target.target_listed_count as bigint) as target_listed_count,
        cast(plan_target.listed_count_2020 as bigint) as listed_count_2020,
        cast(parameters.target_market_value_yuan as decimal(24, 2)) as target_market_value_yuan,
        case
            when coalesce(listed_counts.listed_with_market_data_count, 0)
                 < coalesce(listed_counts.listed_company_count, 0)
                then 'stg_enterprise__market_data: '
                    || cast(listed_counts.listed_company_count - listed_counts.listed_with_market_data_count
                            as {{ dbt.type_string() }})
                    || ' listed companies without month-end market data'
        end as missing_market_data,
        case when plan_target.target_listed_count is null
            then 'stg_public__plan_indicators: no 十四五 target for 境内外上市公司数' end as missing_target,
        months.inputs_loaded_at
    from months
    cross join plan_target
    cross join parameters
    left join listed_counts on listed_counts.report_month = months.report_month

),

final as (

    select
        report_month,
        listed_company_count,
        listed_with_market_data_count,
        market_data_company_count,
        total_market_value_yuan,
        target_listed_count,
        listed_count_2020,
        cast({{ exact_ratio('listed_company_count * 100', 'target_listed_count', 4) }} as decimal(12, 4))
            as listed_progress_pct,
        target_market_value_yuan,
        cast({{ exact_ratio('total_market_value_yuan * 100', 'target_market_value_yuan', 4) }} as decimal(12, 4))
            as market_value_progress_pct,
        case
            when missing_market_data is not null and missing_target is not null
                then missing_market_data || ', ' || missing_target
            else coalesce(missing_market_data, missing_target)
        end as missing_inputs,
        inputs_loaded_at
    from counted

)

select * from final
