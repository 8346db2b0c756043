{{ config(meta={"dagster": {"ref": {"name": "fct_financing_access_monthly"}}}) }}
-- A firm gets its first loan once: in fct_financing_access_monthly is_first_loan is true in at most one month
-- per enterprise (the month of its earliest reported origination). Rows: firms flagged in two months.
select credit_code, count(*) as first_loan_months, min(report_month) as first, max(report_month) as last
from {{ ref('fct_financing_access_monthly') }}
where is_first_loan
group by credit_code
having count(*) > 1
