-- Every monthly return of an organisation type with limits in seed supervision_limits has exactly one row per
-- ratio of its type in fct_local_finance_ratios_monthly (none dropped, none invented); returns the returns that
-- do not, with the expected and actual counts.
with

expected as (

    select returns.org_code, returns.report_month, count(*) as expected_ratios
    from {{ ref('stg_local_finance__returns') }} as returns
    inner join {{ ref('supervision_limits') }} as limits on limits.org_type = returns.org_type
    group by returns.org_code, returns.report_month

),

actual as (

    select org_code, report_month, count(*) as actual_ratios
    from {{ ref('fct_local_finance_ratios_monthly') }}
    group by org_code, report_month

)

select
    coalesce(expected.org_code, actual.org_code) as org_code,
    coalesce(expected.report_month, actual.report_month) as report_month,
    expected.expected_ratios,
    actual.actual_ratios
from expected
full outer join actual
    on actual.org_code = expected.org_code and actual.report_month = expected.report_month
where expected.expected_ratios is null
    or actual.actual_ratios is null
    or expected.expected_ratios <> actual.actual_ratios
