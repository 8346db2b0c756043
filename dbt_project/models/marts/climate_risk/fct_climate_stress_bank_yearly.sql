-- Climate stress test per bank, scenario and year 2021-2030: the capital-ratio path against the minimum
-- (PBoC 2021 climate-risk stress test [S]: capital adequacy 14.89% → 14.57% light, 14.27% severe, in 2030;
-- domain-methods.md "Climate stress test"):
--   extra loss_y     = Σ loans (expected loss shocked_y − expected loss baseline_y)   (fct_climate_stress_loan_yearly)
--   RWA              = Σ all the bank's loans at the base month × the corporate risk weight (100%)
--   capital          = starting capital ratio × RWA (baseline; no bank's own ratio is delivered: 14.89%, PBoC 2021)
--   capital ratio_y  = (capital − extra loss_y) ÷ RWA = starting ratio − extra loss_y ÷ RWA
--   passes_y         = capital ratio_y >= minimum (10.5%); passes_all_years = passes in every year 2021-2030.
-- Simplifications, stated: RWA weights every loan (retail, mortgage, farmer loans too) at the corporate 100% and
-- ignores off-balance-sheet, market and operational risk; the balance sheet is static (base-month loans, no
-- growth, no retained earnings); the extra loss of a year is the one-year loss at that year's PD, and the PD
-- already carries the accumulated carbon cost (shocked equity), so losses are not added up across years.
-- Banks: the institutions register (stg_bank__institutions, type 银行), names from there.

with

base_period as (

    select base_year, loan_report_month, missing_inputs from {{ ref('int_climate_risk__base_period') }}

),

parameters as (

    select
        max(case when parameter = 'default_starting_capital_ratio' then value end) as starting_capital_ratio,
        max(case when parameter = 'min_capital_ratio' then value end) as min_capital_ratio,
        cast(max(case when parameter = 'corporate_risk_weight' then value end) as decimal(9, 6)) as corporate_risk_weight
    from {{ ref('climate_stress_parameters') }}

),

banks as (

    select institution_code as bank_code, institution_name as bank_name
    from {{ ref('stg_bank__institutions') }}
    where institution_type = '银行'

),

scenario_years as (

    select scenario, cast(year as integer) as year from {{ ref('climate_stress_scenarios') }}

),

all_loans as (

    select loans.bank_code, sum(loans.balance_yuan) as loan_balance_yuan
    from {{ ref('stg_bank__loans') }} as loans
    inner join base_period
        on base_period.loan_report_month = loans.report_month
    group by loans.bank_code

),

stressed_loans as (

    select
        bank_code,
        scenario,
        year,
        count(*) as in_scope_loan_count,
        sum(case when shocked_pd is null or baseline_pd is null then 1 else 0 end) as loans_without_pd,
        sum(exposure_yuan) as exposure_in_scope_yuan,
        sum(expected_loss_baseline_yuan) as expected_loss_baseline_yuan,
        sum(expected_loss_shocked_yuan) as expected_loss_shocked_yuan
    from {{ ref('fct_climate_stress_loan_yearly') }}
    group by bank_code, scenario, year

),

joined as (

    select
        base_period.base_year,
        base_period.loan_report_month as report_month,
        banks.bank_code,
        banks.bank_name,
        scenario_years.scenario,
        scenario_years.year,
        coalesce(stressed_loans.in_scope_loan_count, 0) as in_scope_loan_count,
        cast(coalesce(stressed_loans.exposure_in_scope_yuan, 0) as decimal(20, 2)) as exposure_in_scope_yuan,
        -- a loan without a PD makes the bank's loss unknown, not smaller: null, and missing_inputs says so
        case when coalesce(stressed_loans.loans_without_pd, 0) = 0
            then cast(coalesce(stressed_loans.expected_loss_baseline_yuan, 0) as decimal(20, 2))
        end as expected_loss_baseline_yuan,
        case when coalesce(stressed_loans.loans_without_pd, 0) = 0
            then cast(coalesce(stressed_loans.expected_loss_shocked_yuan, 0) as decimal(20, 2))
        end as expected_loss_shocked_yuan,
        case when all_loans.loan_balance_yuan > 0
            then cast(all_loans.loan_balance_yuan * parameters.corporate_risk_weight as decimal(20, 2))
        end as rwa_yuan,
        cast(parameters.starting_capital_ratio as decimal(9, 6)) as starting_capital_ratio,
        cast(parameters.min_capital_ratio as decimal(9, 6)) as min_capital_ratio,
        nullif(concat_ws(', ',
            base_period.missing_inputs,
            case when base_period.base_year is null then 'base_year' end,
            case when base_period.missing_inputs is null and base_period.base_year is not null
                 and not (coalesce(all_loans.loan_balance_yuan, 0) > 0) then 'bank_loans' end,
            case when stressed_loans.loans_without_pd > 0 then 'borrower_pd' end
        ), '') as missing_inputs
    from banks
    cross join scenario_years
    cross join parameters
    left join base_period
        on 1 = 1
    left join all_loans
        on all_loans.bank_code = banks.bank_code
    left join stressed_loans
        on stressed_loans.bank_code = banks.bank_code
        and stressed_loans.scenario = scenario_years.scenario
        and stressed_loans.year = scenario_years.year

),

ratios as (

    select
        joined.*,
        cast(expected_loss_shocked_yuan - expected_loss_baseline_yuan as decimal(20, 2)) as extra_loss_yuan,
        cast(starting_capital_ratio * rwa_yuan as decimal(20, 2)) as capital_yuan,
        -- (capital − extra loss) ÷ RWA with capital = starting ratio × RWA, i.e. starting ratio − extra loss ÷ RWA,
        -- exact to 8 places (the ratio of the fen-rounded capital would drift by the rounding)
        cast(starting_capital_ratio
             - {{ exact_ratio('expected_loss_shocked_yuan - expected_loss_baseline_yuan', 'rwa_yuan', 8) }}
             as decimal(12, 8)) as capital_ratio
    from joined

),

passing as (

    select
        ratios.*,
        case when capital_ratio is null then null
             when capital_ratio >= min_capital_ratio then true
             else false
        end as passes
    from ratios

),

final as (

    select
        passing.*,
        -- false if any year fails; null if no year fails but a year is unknown; true if every year passes
        case when min(case when passes then 1 when not passes then 0 end)
                      over (partition by bank_code, scenario) = 0 then false
             when max(case when passes is null then 1 else 0 end) over (partition by bank_code, scenario) = 1
                 then null
             else true
        end as passes_all_years
    from passing

)

select
    base_year,
    report_month,
    bank_code,
    bank_name,
    scenario,
    year,
    cast(in_scope_loan_count as bigint) as in_scope_loan_count,
    exposure_in_scope_yuan,
    expected_loss_baseline_yuan,
    expected_loss_shocked_yuan,
    extra_loss_yuan,
    rwa_yuan,
    starting_capital_ratio,
    capital_yuan,
    capital_ratio,
    min_capital_ratio,
    passes,
    passes_all_years,
    missing_inputs
from final
