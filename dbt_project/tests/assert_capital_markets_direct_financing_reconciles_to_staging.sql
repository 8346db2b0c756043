-- Per financing type: Σ of the mart's monthly amounts equals Σ of the staging events of the listed types, and the
-- latest month's cumulation equals Σ staging amounts from the cumulation start. Returns the types that differ.
with staging as (
    select financing_type, sum(amount_yuan) as amount_yuan,
           sum(case when financing_month >= (select max(cumulation_start) from {{ ref('plan_indicator_sources') }}
                                             where plan_period = '十四五'
                                               and measure_key = 'direct_financing_cumulative')
                    then amount_yuan else 0 end) as cumulative_amount_yuan
    from {{ ref('stg_enterprise__direct_financings') }}
    group by financing_type
),
mart as (
    select financing_type, sum(amount_yuan) as amount_yuan,
           max(case when report_month = (select max(report_month) from {{ ref('fct_direct_financing_cumulative_monthly') }})
                    then cumulative_amount_yuan end) as cumulative_amount_yuan
    from {{ ref('fct_direct_financing_cumulative_monthly') }}
    group by financing_type
)
select staging.financing_type, staging.amount_yuan, mart.amount_yuan as mart_amount_yuan,
       staging.cumulative_amount_yuan, mart.cumulative_amount_yuan as mart_cumulative_amount_yuan
from staging
left join mart on mart.financing_type = staging.financing_type
where mart.financing_type is null
    or mart.amount_yuan <> staging.amount_yuan
    or coalesce(mart.cumulative_amount_yuan, 0) <> staging.cumulative_amount_yuan
