-- High-carbon borrowers in the scope of the climate stress test, PBoC 2021 climate-risk stress test [S]
-- (../shared/reference/domain-methods.md "Climate stress test"): enterprises of the thermal power, steel and cement
-- sectors (registered GB/T 4754-2017 class in seed climate_stress_sector_classes) emitting at least the threshold
-- (seed climate_stress_parameters.in_scope_threshold_tco2e, 26,000 t CO2e a year) of scope 1 + scope 2 in the base
-- year, with their base-year financials (ebitda, equity, total liabilities) and their sector's asset volatility
-- (seed climate_stress_sectors). A firm in scope whose financials are missing is kept, missing_inputs naming the gap.

with

base_period as (

    select base_year from {{ ref('int_climate_risk__base_period') }}

),

threshold as (

    select value as in_scope_threshold_tco2e
    from {{ ref('climate_stress_parameters') }}
    where parameter = 'in_scope_threshold_tco2e'

),

sector_classes as (

    select
        classes.industry_code,
        classes.sector,
        sectors.asset_volatility
    from {{ ref('climate_stress_sector_classes') }} as classes
    inner join {{ ref('climate_stress_sectors') }} as sectors
        on sectors.sector = classes.sector

),

registries as (

    select credit_code, industry_code from {{ ref('stg_enterprise__registries') }}

),

emissions as (

    select credit_code, year, scope1_tco2e + scope2_tco2e as emissions_tco2e
    from {{ ref('stg_enterprise__energy_emissions') }}

),

financials as (

    select credit_code, year, ebitda_yuan, equity_yuan, total_liabilities_yuan
    from {{ ref('stg_enterprise__financials') }}

),

in_scope as (

    select
        registries.credit_code,
        base_period.base_year,
        registries.industry_code,
        sector_classes.sector,
        sector_classes.asset_volatility,
        emissions.emissions_tco2e
    from registries
    inner join sector_classes
        on sector_classes.industry_code = registries.industry_code
    cross join base_period
    inner join emissions
        on emissions.credit_code = registries.credit_code
        and emissions.year = base_period.base_year
    cross join threshold
    where emissions.emissions_tco2e >= threshold.in_scope_threshold_tco2e

),

final as (

    select
        in_scope.credit_code,
        in_scope.base_year,
        in_scope.industry_code,
        in_scope.sector,
        in_scope.asset_volatility,
        cast(in_scope.emissions_tco2e as decimal(18, 4)) as emissions_tco2e,
        financials.ebitda_yuan,
        financials.equity_yuan,
        financials.total_liabilities_yuan,
        -- what keeps a measure from being computed: ebitda → shocked profit; equity, total liabilities → the PDs
        nullif(concat_ws(', ',
            case when financials.credit_code is null then 'financials' end,
            case when financials.credit_code is not null and financials.ebitda_yuan is null then 'ebitda' end,
            case when financials.credit_code is not null and financials.equity_yuan is null then 'equity' end,
            case when financials.credit_code is not null and financials.total_liabilities_yuan is null
                then 'total_liabilities' end,
            case when financials.total_liabilities_yuan <= 0 then 'total_liabilities_not_positive' end
        ), '') as missing_inputs
    from in_scope
    left join financials
        on financials.credit_code = in_scope.credit_code
        and financials.year = in_scope.base_year

)

select * from final
