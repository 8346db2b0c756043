{{ config(meta={"dagster": {"ref": {"name": "fct_green_loan_balance_monthly"}},
                "tested_by_period": {"inputs": [
                    ["fct_green_loan_balance_monthly", "report_month", none],
                    ["stg_bank__loans", "report_month", "loaded_at"]]}}) }}
-- The mart's totals per month equal the staging loans they summarise, to the fen.
-- A row here means the mart lost, doubled or rounded loans between staging and publication.
with mart as (
    select report_month,
           sum(total_loan_balance_yuan) as total_yuan,
           sum(green_loan_balance_yuan) as green_yuan,
           sum(loan_count) as loans
    from {{ ref('fct_green_loan_balance_monthly') }}
    where {{ periods_to_test('report_month') }}
    group by report_month
),

staging as (
    select report_month,
           sum(balance_yuan) as total_yuan,
           sum(case when is_green then balance_yuan else 0 end) as green_yuan,
           count(*) as loans
    from {{ ref('stg_bank__loans') }}
    where {{ periods_to_test('report_month') }}
    group by report_month
)

select coalesce(mart.report_month, staging.report_month) as report_month,
       mart.total_yuan as mart_total_yuan, staging.total_yuan as staging_total_yuan,
       mart.green_yuan as mart_green_yuan, staging.green_yuan as staging_green_yuan,
       mart.loans as mart_loans, staging.loans as staging_loans
from mart
full outer join staging on mart.report_month = staging.report_month
where mart.total_yuan is distinct from staging.total_yuan
   or mart.green_yuan is distinct from staging.green_yuan
   or mart.loans is distinct from staging.loans
