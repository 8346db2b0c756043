-- Carbon-price shock and Merton PD of each high-carbon borrower, per scenario and year 2021-2030.
-- Methods: PBoC 2021 climate-risk stress test [S] (firms pay a rising share of their emission cost under light /
-- medium / severe carbon prices; insolvent firms default) and the open Merton method of 2DegreesInvesting
-- r2dii.climate.stress.test [C] (PD = N(-d2)); ../shared/reference/domain-methods.md "Climate stress test".
--   carbon cost_y      = emissions (held at the base year) × carbon price_y × share of the cost borne_y
--   shocked profit_y   = ebitda (base year) − carbon cost_y
--   shocked equity_y   = max(0, equity (base year) − Σ_{t <= y} carbon cost_t × (1 − income tax rate))
--   d2                 = (ln(V / D) − σ² T / 2) / (σ √T), V = equity + D, D = total liabilities,
--                        σ = the sector's asset volatility, T = the horizon (drift 0, as in the brief)
--   PD                 = N(−d2), or 1 when the equity is exhausted (V <= D: insolvent firms default, PBoC 2021);
--                        baseline PD the same with no carbon cost (base-year equity); PD uplift = shocked − baseline.
-- Parameters: seeds climate_stress_scenarios, climate_stress_parameters, climate_stress_sectors (via the borrowers).

with

borrowers as (

    select * from {{ ref('int_climate_risk__high_carbon_borrowers') }}

),

scenarios as (

    select scenario, year, carbon_price_yuan_per_tco2e, cost_share_borne
    from {{ ref('climate_stress_scenarios') }}

),

parameters as (

    select
        cast(max(case when parameter = 'income_tax_rate' then value end) as decimal(7, 6)) as income_tax_rate,
        max(case when parameter = 'horizon_years' then value end) as horizon_years
    from {{ ref('climate_stress_parameters') }}

),

carbon_cost as (

    select
        borrowers.credit_code,
        borrowers.base_year,
        borrowers.industry_code,
        borrowers.sector,
        borrowers.asset_volatility,
        borrowers.emissions_tco2e,
        borrowers.ebitda_yuan,
        borrowers.equity_yuan,
        borrowers.total_liabilities_yuan,
        borrowers.missing_inputs,
        scenarios.scenario,
        cast(scenarios.year as integer) as year,
        scenarios.carbon_price_yuan_per_tco2e,
        scenarios.cost_share_borne,
        parameters.income_tax_rate,
        parameters.horizon_years,
        -- widened first: DuckDB keeps a product of two 18-digit decimals at 18 digits
        cast(cast(borrowers.emissions_tco2e as decimal(24, 4)) * scenarios.carbon_price_yuan_per_tco2e
             * scenarios.cost_share_borne
             as decimal(20, 2)) as carbon_cost_yuan
    from borrowers
    cross join scenarios
    cross join parameters

),

cumulated as (

    select
        carbon_cost.*,
        -- after-tax cost of each year to the fen, accumulated from 2021 (the carbon cost reduces taxable profit)
        sum(cast(carbon_cost_yuan * (1 - income_tax_rate) as decimal(20, 2))) over (
            partition by credit_code, scenario order by year rows between unbounded preceding and current row
        ) as cumulative_after_tax_carbon_cost_yuan
    from carbon_cost

),

shocked as (

    select
        cumulated.*,
        cast(ebitda_yuan - carbon_cost_yuan as decimal(20, 2)) as shocked_profit_yuan,
        cast(equity_yuan - cumulative_after_tax_carbon_cost_yuan as decimal(20, 2)) as shocked_equity_unfloored_yuan
    from cumulated

),

distance as (

    select
        shocked.*,
        -- d2 of the Merton model, in DOUBLE; undefined (null) when the firm is insolvent or D is not positive
        case when equity_yuan > 0 and total_liabilities_yuan > 0
            then (ln(cast(equity_yuan + total_liabilities_yuan as double) / cast(total_liabilities_yuan as double))
                  - cast(asset_volatility as double) * cast(asset_volatility as double)
                    * cast(horizon_years as double) / 2.0)
                 / (cast(asset_volatility as double) * sqrt(cast(horizon_years as double)))
        end as baseline_d2,
        case when shocked_equity_unfloored_yuan > 0 and total_liabilities_yuan > 0
            then (ln(cast(shocked_equity_unfloored_yuan + total_liabilities_yuan as double)
                     / cast(total_liabilities_yuan as double))
                  - cast(asset_volatility as double) * cast(asset_volatility as double)
                    * cast(horizon_years as double) / 2.0)
                 / (cast(asset_volatility as double) * sqrt(cast(horizon_years as double)))
        end as shocked_d2
    from shocked

),

final as (

    select
        credit_code,
        base_year,
        industry_code,
        sector,
        scenario,
        year,
        emissions_tco2e,
        carbon_price_yuan_per_tco2e,
        cost_share_borne,
        carbon_cost_yuan,
        ebitda_yuan,
        shocked_profit_yuan,
        equity_yuan,
        cast(cumulative_after_tax_carbon_cost_yuan as decimal(20, 2)) as cumulative_after_tax_carbon_cost_yuan,
        cast(case when shocked_equity_unfloored_yuan < 0 then 0 else shocked_equity_unfloored_yuan end
             as decimal(20, 2)) as shocked_equity_yuan,
        total_liabilities_yuan,
        asset_volatility,
        cast(baseline_d2 as decimal(18, 10)) as baseline_d2,
        cast(shocked_d2 as decimal(18, 10)) as shocked_d2,
        cast(case when equity_yuan is null or total_liabilities_yuan is null or total_liabilities_yuan <= 0 then null
                  when equity_yuan <= 0 then 1
                  else {{ normal_cdf('-baseline_d2') }}
             end as decimal(12, 10)) as baseline_pd,
        cast(case when equity_yuan is null or total_liabilities_yuan is null or total_liabilities_yuan <= 0 then null
                  when shocked_equity_unfloored_yuan <= 0 then 1
                  else {{ normal_cdf('-shocked_d2') }}
             end as decimal(12, 10)) as shocked_pd,
        missing_inputs
    from distance

)

select
    final.*,
    cast(shocked_pd - baseline_pd as decimal(12, 10)) as pd_uplift
from final
