-- Scope 2 emissions are the firm's grid electricity times the year's national grid emission factor
-- (public_grid_emission_factors, region 全国: the factor the MEE has verifiers apply). A rule across two
-- datasets, so it is checked here rather than at ingestion. Returns each firm-year that disagrees.
select
    emissions.credit_code,
    emissions.year,
    emissions.scope2_tco2e,
    emissions.electricity_kwh * factors.factor_t_co2_per_mwh / 1000 as expected_scope2_tco2e
from {{ ref('stg_enterprise__energy_emissions') }} as emissions
left join {{ ref('stg_public__grid_emission_factors') }} as factors
    on factors.factor_year = emissions.year and factors.region = '全国'
where emissions.scope2_tco2e is not null
    and (factors.factor_t_co2_per_mwh is null
         or abs(emissions.scope2_tco2e - emissions.electricity_kwh * factors.factor_t_co2_per_mwh / 1000) > 0.0001)
