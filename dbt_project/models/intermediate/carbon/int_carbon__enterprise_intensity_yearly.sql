-- Carbon intensity L of each industrial enterprise and year, the first measure of the carbon-efficiency code
-- (碳效码), Zhejiang method "规上工业企业碳效等级评价方法" §1 ([S], ../shared/reference/domain-methods.md):
--   L = CO2 from the year's energy use (t) ÷ value added of the year (10,000 yuan)
-- CO2 from energy use = scope 1 + scope 2 as delivered (stg_enterprise__energy_emissions); value added is delivered
-- (stg_enterprise__financials.value_added_yuan, income approach as the method asks). An enterprise-year with an input
-- missing, or with value added <= 0 (L undefined), is kept with missing_inputs naming it and a null L.

with

-- industrial enterprises: GB/T 4754-2017 sections B (mining), C (manufacturing), D (power, heat, gas, water), the
-- scope of the method (规上工业企业) and of the published industry benchmarks; industry = registered class (C3011)
industrial_enterprises as (

    select
        credit_code,
        industry_code,
        district_code
    from {{ ref('stg_enterprise__registries') }}
    where substring(industry_code, 1, 1) in ('B', 'C', 'D')

),

emissions as (

    select credit_code, year, scope1_tco2e, scope2_tco2e
    from {{ ref('stg_enterprise__energy_emissions') }}

),

financials as (

    select credit_code, year, value_added_yuan
    from {{ ref('stg_enterprise__financials') }}

),

-- an enterprise-year exists when either input was delivered for it, so a gap on one side shows up as a row
enterprise_years as (

    select credit_code, year from emissions
    union
    select credit_code, year from financials

),

joined as (

    select
        enterprise_years.credit_code,
        enterprise_years.year,
        industrial_enterprises.industry_code,
        industrial_enterprises.district_code,
        emissions.scope1_tco2e + emissions.scope2_tco2e as co2_energy_t,
        financials.value_added_yuan
    from enterprise_years
    inner join industrial_enterprises
        on industrial_enterprises.credit_code = enterprise_years.credit_code
    left join emissions
        on emissions.credit_code = enterprise_years.credit_code
        and emissions.year = enterprise_years.year
    left join financials
        on financials.credit_code = enterprise_years.credit_code
        and financials.year = enterprise_years.year

),

final as (

    select
        credit_code,
        cast(year as integer) as year,
        industry_code,
        district_code,
        cast(co2_energy_t as decimal(18, 4)) as co2_energy_t,
        value_added_yuan,
        -- t per 10,000 yuan = t × 10,000 ÷ yuan, exact to 6 places (half up)
        case when co2_energy_t is not null and value_added_yuan > 0
            then cast({{ exact_ratio('co2_energy_t * 10000', 'value_added_yuan', 6) }} as decimal(18, 6))
        end as carbon_intensity_t_per_10k_yuan,
        -- what kept L from being computed; null when nothing is missing
        nullif(concat_ws(', ',
            case when co2_energy_t is null then 'energy_emissions' end,
            case when value_added_yuan is null then 'value_added' end,
            case when value_added_yuan <= 0 then 'value_added_not_positive' end
        ), '') as missing_inputs
    from joined

)

select * from final
