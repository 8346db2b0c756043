{{ config(meta={"dagster": {"ref": {"name": "fct_financial_operation_monthly"}}}) }}
-- In fct_financial_operation_monthly every breakdown of a month adds up to the city row: loans and NPL over
-- district, bank, industry section, borrower type and product; deposits over district, bank and deposit
-- category; and the city's deposits equal the staging deposit reports. A row names the month, the breakdown
-- and both totals.
with city as (
    select report_month, loan_balance_yuan, npl_balance_yuan, deposit_balance_yuan
    from {{ ref('fct_financial_operation_monthly') }}
    where breakdown = 'city'
),

parts as (
    select report_month, breakdown,
           sum(loan_balance_yuan) as loan_balance_yuan,
           sum(npl_balance_yuan) as npl_balance_yuan,
           sum(deposit_balance_yuan) as deposit_balance_yuan
    from {{ ref('fct_financial_operation_monthly') }}
    where breakdown <> 'city'
    group by report_month, breakdown
),

staging_deposits as (
    select report_month, sum(balance_yuan) as deposit_balance_yuan
    from {{ ref('stg_bank__deposits') }}
    group by report_month
)

select parts.report_month, parts.breakdown,
       city.loan_balance_yuan as city_loans_yuan, parts.loan_balance_yuan as breakdown_loans_yuan,
       city.npl_balance_yuan as city_npl_yuan, parts.npl_balance_yuan as breakdown_npl_yuan,
       city.deposit_balance_yuan as city_deposits_yuan, parts.deposit_balance_yuan as breakdown_deposits_yuan
from parts
left join city on city.report_month = parts.report_month
where (parts.breakdown in ('district', 'bank', 'industry_section', 'borrower_type', 'product')
       and (parts.loan_balance_yuan is distinct from city.loan_balance_yuan
            or parts.npl_balance_yuan is distinct from city.npl_balance_yuan))
   or (parts.breakdown in ('district', 'bank', 'deposit_category')
       and parts.deposit_balance_yuan is distinct from city.deposit_balance_yuan)

union all

select staging_deposits.report_month, 'staging deposits',
       null, null, null, null, city.deposit_balance_yuan, staging_deposits.deposit_balance_yuan
from staging_deposits
left join city on city.report_month = staging_deposits.report_month
where city.deposit_balance_yuan is distinct from staging_deposits.deposit_balance_yuan
