-- Per month and company: the mart's total pledge ratio equals Σ pledge_ratio_pct of the staging pledges, and every
-- company-month with a pledge has its row. Returns the rows that differ.
with staging as (
    select report_month, credit_code, sum(pledge_ratio_pct) as pledge_ratio_pct, count(*) as pledge_count
    from {{ ref('stg_enterprise__share_pledges') }}
    group by report_month, credit_code
)
select staging.*, mart.total_pledge_ratio_pct, mart.pledge_count as mart_pledge_count
from staging
left join {{ ref('fct_share_pledge_risk_monthly') }} as mart
    on mart.report_month = staging.report_month and mart.credit_code = staging.credit_code
where mart.credit_code is null
    or mart.total_pledge_ratio_pct <> cast(staging.pledge_ratio_pct as decimal(9, 4))
    or mart.pledge_count <> staging.pledge_count
