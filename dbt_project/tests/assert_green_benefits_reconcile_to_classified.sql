{{ config(meta={"dagster": {"ref": {"name": "fct_green_loan_benefits_monthly"}},
                "tested_by_period": {"inputs": [
                    ["fct_green_loan_benefits_monthly", "report_month", none],
                    ["stg_bank__loans", "report_month", "loaded_at"],
                    ["int_green_credit__green_loans_classified", "report_month", none]]}}) }}
{#- The benefits mart's green balance and loan count per month and bank equal the green loans in staging, and its
    attributed CO2e equals the classified loans'. A row here means loans were lost or doubled on the way. -#}
with mart as (
    select report_month, bank_code,
           sum(green_balance_yuan) as green_yuan,
           sum(green_loan_count) as loans,
           sum(attributed_annual_co2e_avoided_t) as co2e_t
    from {{ ref('fct_green_loan_benefits_monthly') }}
    where {{ periods_to_test('report_month') }}
    group by report_month, bank_code
),

staging as (
    select report_month, bank_code, sum(balance_yuan) as green_yuan, count(*) as loans
    from {{ ref('stg_bank__loans') }}
    where is_green and {{ periods_to_test('report_month') }}
    group by report_month, bank_code
),

classified as (
    select report_month, bank_code, sum(attributed_annual_co2e_avoided_t) as co2e_t
    from {{ ref('int_green_credit__green_loans_classified') }}
    where {{ periods_to_test('report_month') }}
    group by report_month, bank_code
)

select coalesce(mart.report_month, staging.report_month) as report_month,
       coalesce(mart.bank_code, staging.bank_code) as bank_code,
       mart.green_yuan as mart_green_yuan, staging.green_yuan as staging_green_yuan,
       mart.loans as mart_loans, staging.loans as staging_loans,
       mart.co2e_t as mart_co2e_t, classified.co2e_t as classified_co2e_t
from mart
full outer join staging
    on mart.report_month = staging.report_month and mart.bank_code = staging.bank_code
left join classified
    on classified.report_month = coalesce(mart.report_month, staging.report_month)
    and classified.bank_code = coalesce(mart.bank_code, staging.bank_code)
where mart.green_yuan is distinct from staging.green_yuan
   or mart.loans is distinct from staging.loans
   or mart.co2e_t is distinct from classified.co2e_t
