-- Climate stress test per loan, scenario and year 2021-2030: the expected loss of each loan to a high-carbon
-- borrower (PBoC 2021 climate-risk stress test [S]; Merton PD, r2dii.climate.stress.test [C]; domain-methods.md):
--   expected loss = PD × LGD × exposure, baseline (no carbon cost) and shocked (the scenario's carbon cost),
-- exposure = the loan's balance at the latest report month of the base year (int_climate_risk__base_period), held
-- constant over the horizon (static balance sheet); LGD from seed climate_stress_parameters (45%, Basel F-IRB [C]).
-- A loan whose borrower lacks an input of the PD has null PDs and expected losses, and missing_inputs names it.

with

base_period as (

    select base_year, loan_report_month from {{ ref('int_climate_risk__base_period') }}

),

lgd as (

    select value as lgd from {{ ref('climate_stress_parameters') }} where parameter = 'lgd'

),

loans as (

    select loans.report_month, loans.bank_code, loans.loan_id, loans.borrower_id, loans.balance_yuan
    from {{ ref('stg_bank__loans') }} as loans
    inner join base_period
        on base_period.loan_report_month = loans.report_month

),

borrower_stress as (

    select * from {{ ref('int_climate_risk__borrower_stress_yearly') }}

),

final as (

    select
        loans.report_month,
        borrower_stress.base_year,
        loans.bank_code,
        loans.loan_id,
        borrower_stress.credit_code as borrower_credit_code,
        borrower_stress.industry_code,
        borrower_stress.sector,
        borrower_stress.scenario,
        borrower_stress.year,
        loans.balance_yuan as exposure_yuan,
        borrower_stress.carbon_cost_yuan as borrower_carbon_cost_yuan,
        borrower_stress.shocked_equity_yuan as borrower_shocked_equity_yuan,
        borrower_stress.baseline_pd,
        borrower_stress.shocked_pd,
        borrower_stress.pd_uplift,
        cast(lgd.lgd as decimal(7, 6)) as lgd,
        cast(borrower_stress.baseline_pd * cast(lgd.lgd as decimal(7, 6)) * loans.balance_yuan as decimal(20, 2))
            as expected_loss_baseline_yuan,
        cast(borrower_stress.shocked_pd * cast(lgd.lgd as decimal(7, 6)) * loans.balance_yuan as decimal(20, 2))
            as expected_loss_shocked_yuan,
        borrower_stress.missing_inputs
    from loans
    inner join borrower_stress
        on borrower_stress.credit_code = loans.borrower_id
    cross join lgd

)

select
    report_month,
    base_year,
    bank_code,
    loan_id,
    borrower_credit_code,
    industry_code,
    sector,
    scenario,
    year,
    exposure_yuan,
    borrower_carbon_cost_yuan,
    borrower_shocked_equity_yuan,
    baseline_pd,
    shocked_pd,
    pd_uplift,
    lgd,
    expected_loss_baseline_yuan,
    expected_loss_shocked_yuan,
    cast(expected_loss_shocked_yuan - expected_loss_baseline_yuan as decimal(20, 2)) as extra_loss_yuan,
    missing_inputs
from final
