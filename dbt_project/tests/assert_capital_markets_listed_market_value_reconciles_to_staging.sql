-- Every month's total market value (when complete) equals Σ market_cap_yuan of the month's market data, and every
-- month of the market data has its row. Returns the months that differ.
with staging as (
    select trade_month as report_month, sum(market_cap_yuan) as market_cap_yuan
    from {{ ref('stg_enterprise__market_data') }}
    group by trade_month
)
select staging.report_month, staging.market_cap_yuan, mart.total_market_value_yuan
from staging
left join {{ ref('fct_listed_companies_monthly') }} as mart on mart.report_month = staging.report_month
where mart.report_month is null
    or (mart.total_market_value_yuan is not null and mart.total_market_value_yuan <> staging.market_cap_yuan)
