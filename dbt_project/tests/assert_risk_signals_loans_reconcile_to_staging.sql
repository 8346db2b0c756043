{{ config(meta={"tested_by_period": {"inputs": [
    ["stg_bank__loans", "report_month", "loaded_at"],
    ["fct_enterprise_risk_signals_monthly", "report_month", none]]}}) }}
-- Every enterprise borrower's loans of a month are in fct_enterprise_risk_signals_monthly: loan count and balance
-- per month equal those of stg_bank__loans for borrower types 企业 and 个体工商户. Returns the months that differ.

with

staging as (

    select report_month, count(*) as loan_count, sum(balance_yuan) as balance_yuan
    from {{ ref('stg_bank__loans') }}
    where borrower_type in ('企业', '个体工商户') and {{ periods_to_test('report_month') }}
    group by report_month

),

mart as (

    select report_month, sum(loan_count) as loan_count, sum(loan_balance_yuan) as balance_yuan
    from {{ ref('fct_enterprise_risk_signals_monthly') }}
    where {{ periods_to_test('report_month') }}
    group by report_month

)

select staging.*, mart.loan_count as mart_loan_count, mart.balance_yuan as mart_balance_yuan
from staging
full outer join mart on mart.report_month = staging.report_month
where mart.report_month is null or staging.report_month is null
    or mart.loan_count <> staging.loan_count or mart.balance_yuan <> staging.balance_yuan
