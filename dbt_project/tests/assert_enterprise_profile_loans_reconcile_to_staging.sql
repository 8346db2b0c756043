-- The loans of dim_enterprise reconcile to stg_bank__loans for the latest report month (as_of_month): for every
-- registered enterprise, loan count, balance and green balance equal those of its loans of borrower type 企业 /
-- 个体工商户 in the staging model. Returns the enterprises that differ.

with

latest as (

    select max(report_month) as report_month from {{ ref('stg_bank__loans') }}

),

staging as (

    select
        loans.borrower_id as credit_code,
        count(*) as loan_count,
        sum(loans.balance_yuan) as balance_yuan,
        sum(case when loans.is_green then loans.balance_yuan else 0 end) as green_balance_yuan
    from {{ ref('stg_bank__loans') }} as loans
    inner join latest on latest.report_month = loans.report_month
    inner join {{ ref('stg_enterprise__registries') }} as registry on registry.credit_code = loans.borrower_id
    where loans.borrower_type in ('企业', '个体工商户')
    group by loans.borrower_id

),

profile as (

    select credit_code, as_of_month, loan_count, loan_balance_yuan, green_loan_balance_yuan
    from {{ ref('dim_enterprise') }}

)

select
    profile.credit_code,
    profile.as_of_month,
    latest.report_month as latest_report_month,
    profile.loan_count,
    coalesce(staging.loan_count, 0) as staging_loan_count,
    profile.loan_balance_yuan,
    coalesce(staging.balance_yuan, 0) as staging_balance_yuan,
    profile.green_loan_balance_yuan,
    coalesce(staging.green_balance_yuan, 0) as staging_green_balance_yuan
from profile
cross join latest
left join staging on staging.credit_code = profile.credit_code
where profile.as_of_month <> latest.report_month
    or profile.loan_count <> coalesce(staging.loan_count, 0)
    or profile.loan_balance_yuan <> coalesce(staging.balance_yuan, 0)
    or profile.green_loan_balance_yuan <> coalesce(staging.green_balance_yuan, 0)
