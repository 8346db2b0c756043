{{ config(meta={"dagster": {"ref": {"name": "fct_loans_monthly"}},
                "tested_by_period": {"inputs": [
                    ["fct_loans_monthly", "report_month", none],
                    ["stg_bank__loans", "report_month", "loaded_at"]]}}) }}
-- fct_loans_monthly per month equals the staging loans it summarises, to the fen: balance, NPL balance
-- (次级/可疑/损失), credit (信用) balance, renewals outstanding and the number of loans.
-- A row here means the mart lost, doubled or misclassified loans between staging and publication.
with mart as (
    select report_month,
           sum(balance_yuan) as total_yuan,
           sum(npl_balance_yuan) as npl_yuan,
           sum(credit_loan_balance_yuan) as credit_yuan,
           sum(renewal_outstanding_balance_yuan) as renewal_yuan,
           sum(loan_count) as loans
    from {{ ref('fct_loans_monthly') }}
    where {{ periods_to_test('report_month') }}
    group by report_month
),

staging as (
    select report_month,
           sum(balance_yuan) as total_yuan,
           sum(case when five_category in ('次级', '可疑', '损失') then balance_yuan else 0 end) as npl_yuan,
           sum(case when guarantee_type = '信用' then balance_yuan else 0 end) as credit_yuan,
           sum(case when is_renewal_without_repayment then balance_yuan else 0 end) as renewal_yuan,
           count(*) as loans
    from {{ ref('stg_bank__loans') }}
    where {{ periods_to_test('report_month') }}
    group by report_month
)

select coalesce(mart.report_month, staging.report_month) as report_month,
       mart.total_yuan as mart_total_yuan, staging.total_yuan as staging_total_yuan,
       mart.npl_yuan as mart_npl_yuan, staging.npl_yuan as staging_npl_yuan,
       mart.credit_yuan as mart_credit_yuan, staging.credit_yuan as staging_credit_yuan,
       mart.renewal_yuan as mart_renewal_yuan, staging.renewal_yuan as staging_renewal_yuan,
       mart.loans as mart_loans, staging.loans as staging_loans
from mart
full outer join staging on mart.report_month = staging.report_month
where mart.total_yuan is distinct from staging.total_yuan
   or mart.npl_yuan is distinct from staging.npl_yuan
   or mart.credit_yuan is distinct from staging.credit_yuan
   or mart.renewal_yuan is distinct from staging.renewal_yuan
   or mart.loans is distinct from staging.loans
