-- The lake's exposure totals per organisation and month add up to the contract-level exposures they are
-- computed from (no contract lost or counted twice); returns the organisation-months that differ.
with

staged as (

    select org_code, report_month, sum(outstanding_yuan) as outstanding_yuan
    from {{ ref('stg_local_finance__exposures') }}
    group by org_code, report_month

),

totals as (

    select org_code, report_month, business_balance_yuan
    from {{ ref('int_local_finance__exposure_totals') }}

)

select
    coalesce(staged.org_code, totals.org_code) as org_code,
    coalesce(staged.report_month, totals.report_month) as report_month,
    staged.outstanding_yuan,
    totals.business_balance_yuan
from staged
full outer join totals
    on totals.org_code = staged.org_code and totals.report_month = staged.report_month
where staged.outstanding_yuan is null
    or totals.business_balance_yuan is null
    or staged.outstanding_yuan <> totals.business_balance_yuan
