{{ config(meta={"dagster": {"ref": {"name": "fct_climate_stress_bank_yearly"}}}) }}
-- For every bank, scenario and year, the climate stress marts hold the bank's loans to high-carbon borrowers and its
-- whole loan book at the stressed month, to the fen: exposure_in_scope = Σ stg_bank__loans balance of loans whose
-- borrower is in int_climate_risk__high_carbon_borrowers; RWA = Σ all its loans × the corporate risk weight.
-- A row here means a loan was lost or doubled between staging and publication.
with base_period as (
    select loan_report_month from {{ ref('int_climate_risk__base_period') }}
),

staging as (
    select
        loans.bank_code,
        sum(case when borrowers.credit_code is not null then loans.balance_yuan else 0 end) as exposure_in_scope_yuan,
        sum(loans.balance_yuan) as loan_balance_yuan
    from {{ ref('stg_bank__loans') }} as loans
    inner join base_period on base_period.loan_report_month = loans.report_month
    left join {{ ref('int_climate_risk__high_carbon_borrowers') }} as borrowers
        on borrowers.credit_code = loans.borrower_id
    group by loans.bank_code
),

risk_weight as (
    select value as corporate_risk_weight
    from {{ ref('climate_stress_parameters') }}
    where parameter = 'corporate_risk_weight'
)

select mart.bank_code, mart.scenario, mart.year,
       mart.exposure_in_scope_yuan, staging.exposure_in_scope_yuan as staging_exposure_in_scope_yuan,
       mart.rwa_yuan, staging.loan_balance_yuan as staging_loan_balance_yuan
from {{ ref('fct_climate_stress_bank_yearly') }} as mart
cross join risk_weight
left join staging on staging.bank_code = mart.bank_code
where mart.exposure_in_scope_yuan <> coalesce(staging.exposure_in_scope_yuan, 0)
   or coalesce(mart.rwa_yuan, 0)
      <> coalesce(cast(staging.loan_balance_yuan * risk_weight.corporate_risk_weight as decimal(20, 2)), 0)
