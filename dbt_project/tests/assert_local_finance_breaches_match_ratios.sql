-- fct_supervision_breaches_monthly holds exactly the breached rows of fct_local_finance_ratios_monthly; returns
-- the organisation, month and ratio found in one and not the other.
with

breached as (

    select report_month, org_code, ratio_code
    from {{ ref('fct_local_finance_ratios_monthly') }}
    where breached

),

breaches as (

    select report_month, org_code, ratio_code
    from {{ ref('fct_supervision_breaches_monthly') }}

)

select
    coalesce(breached.report_month, breaches.report_month) as report_month,
    coalesce(breached.org_code, breaches.org_code) as org_code,
    coalesce(breached.ratio_code, breaches.ratio_code) as ratio_code,
    breached.ratio_code is not null as in_ratios_mart,
    breaches.ratio_code is not null as in_breaches_mart
from breached
full outer join breaches
    on breaches.report_month = breached.report_month
    and breaches.org_code = breached.org_code
    and breaches.ratio_code = breached.ratio_code
where breached.ratio_code is null or breaches.ratio_code is null
