-- Financed emissions of each loan and year: PCAF Global GHG Accounting and Reporting Standard Part A, 2nd edition
-- (2022) ([C], ../shared/reference/domain-methods.md "Financed emissions"):
--   financed emissions (scope s) = attribution factor × borrower's emissions (scope s), scopes reported separately
-- Attribution factor: int_carbon__pcaf_loan_attribution (PCAF chapter 5, rules there). Borrower emissions and the
-- PCAF data quality score (seed pcaf_data_quality_scores) by asset class:
--   business loans: the borrower's reported scope 1 and 2 (stg_enterprise__energy_emissions) of the year, score by
--     verification status: 核查 verified → 1, 自报 reported → 2, 估算 estimated from energy use → 3 (options 1a,
--     1b, 2a); none reported → operating revenue × the section's factor (seed pcaf_emission_factors, [U]
--     placeholders) → 4 (option 3a); no revenue either → emissions null, score 5, missing_inputs
--   project finance: the project's emissions are not delivered → null, score 5, missing_inputs project_emissions
--   mortgages / motor vehicle loans: average emissions per dwelling / vehicle (seed pcaf_retail_parameters, [U]),
--     score 5
--   scope 3: not delivered by any source → null for every loan (PCAF asks for it separately where available)
-- Industry = the borrower's GB/T 4754-2017 class as the bank reports it; high-carbon sector by seed
-- high_carbon_industries (JR/T 0227-2021 / national carbon market sectors). Individuals' ids are not published:
-- borrower_credit_code is kept for enterprises (企业) only.
-- Kept year by year (macro incremental_by_period_with_appends): attribution rows of a bank's month newer than every
-- month the year holds for that bank replace the rows of their loans; a December market-data row, which changed the
-- attribution of its borrower's loans of the year (whatever month they were last reported in), replaces the rows of
-- those loans; any other change of a year's attribution rows, emissions or financial statements recomputes the year.
-- inputs_loaded_at is the attribution row's.

{%- set december_trade_year = "case when extract(month from trade_month) = 12 then "
                              ~ "cast(extract(year from trade_month) as integer) end" %}
{%- set watched = [
    ['int_carbon__pcaf_loan_attribution', 'year', 'inputs_loaded_at'],
    ['stg_enterprise__energy_emissions', 'year', '_loaded_at'],
    ['stg_enterprise__financials', 'year', '_loaded_at'],
    ['stg_enterprise__market_data', december_trade_year, '_loaded_at'],
] %}
{{ config(**incremental_by_period_with_appends('year', inputs=watched, appends={
    'input': 'int_carbon__pcaf_loan_attribution', 'month': 'outstanding_month', 'loaded_at': 'inputs_loaded_at',
    'latest': 'outstanding_month', 'group': ['bank_code'], 'keys': ['bank_code', 'loan_id'],
    'keyed': [{'input': 'stg_enterprise__market_data', 'key': 'credit_code', 'column': 'borrower_id'}]})) }}

with

attribution as (

    select * from {{ ref('int_carbon__pcaf_loan_attribution') }}
    where {{ periods_or_appended_months('year') }}

),

emissions as (

    select credit_code, year, scope1_tco2e, scope2_tco2e, verification_status
    from {{ ref('stg_enterprise__energy_emissions') }}
    where {{ periods_touched('year') }}

),

revenues as (

    select credit_code, year, operating_revenue_yuan
    from {{ ref('stg_enterprise__financials') }}
    where {{ periods_touched('year') }}

),

sector_factors as (

    select industry_section, scope1_tco2e_per_10k_yuan_revenue, scope2_tco2e_per_10k_yuan_revenue
    from {{ ref('pcaf_emission_factors') }}

),

retail_parameters as (

    select asset_class, scope1_tco2e_per_unit, scope2_tco2e_per_unit
    from {{ ref('pcaf_retail_parameters') }}

),

quality_scores as (

    select emission_basis, verification_status, data_quality_score
    from {{ ref('pcaf_data_quality_scores') }}

),

high_carbon as (

    select industry_code_prefix, high_carbon_sector
    from {{ ref('high_carbon_industries') }}

),

joined as (

    select
        attribution.*,
        nullif(substring(attribution.industry_code, 1, 1), '') as industry_section,
        high_carbon.high_carbon_sector,
        emissions.credit_code is not null as has_emissions,
        emissions.scope1_tco2e as reported_scope1_tco2e,
        emissions.scope2_tco2e as reported_scope2_tco2e,
        status_basis.emission_basis as reported_basis,
        revenues.operating_revenue_yuan,
        sector_factors.scope1_tco2e_per_10k_yuan_revenue,
        sector_factors.scope2_tco2e_per_10k_yuan_revenue,
        retail_parameters.scope1_tco2e_per_unit,
        retail_parameters.scope2_tco2e_per_unit
    from attribution
    -- a class belongs to the sector of the one prefix it starts with (prefixes do not overlap: seed test)
    left join high_carbon
        on substring(attribution.industry_code, 2, length(high_carbon.industry_code_prefix))
           = high_carbon.industry_code_prefix
    -- borrower data only for enterprises and sole proprietors: the type is tested inside the key, so that every
    -- condition is an equality of the two sides (a hash join; a one-sided condition makes DuckDB compare all pairs)
    left join emissions
        on emissions.credit_code
            = case when attribution.borrower_type in ('企业', '个体工商户') then attribution.borrower_id end
        and emissions.year = attribution.year
    left join quality_scores as status_basis
        on status_basis.verification_status = emissions.verification_status
    left join revenues
        on revenues.credit_code
            = case when attribution.borrower_type in ('企业', '个体工商户') then attribution.borrower_id end
        and revenues.year = attribution.year
    left join sector_factors
        on sector_factors.industry_section = substring(attribution.industry_code, 1, 1)
    left join retail_parameters
        on retail_parameters.asset_class = attribution.asset_class

),

borrower_emissions as (

    select
        joined.*,
        case
            when asset_class = 'business_loan' and has_emissions then reported_basis
            when asset_class = 'business_loan' and operating_revenue_yuan is not null then 'revenue_sector_factor'
            when asset_class = 'business_loan' then 'no_borrower_data'
            when asset_class = 'project_finance' then 'project_no_emissions'
            when asset_class = 'mortgage' then 'mortgage_average'
            when asset_class = 'motor_vehicle_loan' then 'vehicle_average'
        end as emission_basis,
        -- t CO2e of the year: reported; or revenue (yuan) × factor (t per 10,000 yuan) × 0.0001; or per unit.
        -- Products of amounts are taken in DECIMAL(38): DuckDB keeps DECIMAL(18) × DECIMAL(18) in 18 digits, and a
        -- city's large emitters overflow it (scale 1: 114,772.5720 t × a factor of 0.1129852413)
        case
            when asset_class = 'business_loan' and has_emissions then reported_scope1_tco2e
            when asset_class = 'business_loan'
                then round(cast(operating_revenue_yuan as decimal(38, 2))
                           * scope1_tco2e_per_10k_yuan_revenue * 0.0001, 4)
            when asset_class in ('mortgage', 'motor_vehicle_loan') then scope1_tco2e_per_unit
        end as borrower_scope1_tco2e,
        case
            when asset_class = 'business_loan' and has_emissions then reported_scope2_tco2e
            when asset_class = 'business_loan'
                then round(cast(operating_revenue_yuan as decimal(38, 2))
                           * scope2_tco2e_per_10k_yuan_revenue * 0.0001, 4)
            when asset_class in ('mortgage', 'motor_vehicle_loan') then scope2_tco2e_per_unit
        end as borrower_scope2_tco2e,
        nullif(concat_ws(', ',
            missing_inputs,
            case when asset_class = 'business_loan' and not has_emissions and operating_revenue_yuan is null
                then 'emissions_and_revenue' end,
            case when asset_class = 'business_loan' and not has_emissions and operating_revenue_yuan is not null
                and scope1_tco2e_per_10k_yuan_revenue is null then 'emission_factor' end,
            case when asset_class = 'project_finance' then 'project_emissions' end
        ), '') as all_missing_inputs
    from joined

),

final as (

    select
        borrower_emissions.year,
        borrower_emissions.bank_code,
        borrower_emissions.bank_name,
        borrower_emissions.loan_id,
        borrower_emissions.outstanding_month,
        borrower_emissions.is_year_end_outstanding,
        borrower_emissions.borrower_type,
        case when borrower_emissions.borrower_type = '企业' then borrower_emissions.borrower_id end
            as borrower_credit_code,
        borrower_emissions.industry_code,
        borrower_emissions.industry_section,
        borrower_emissions.high_carbon_sector,
        borrower_emissions.product,
        borrower_emissions.asset_class,
        borrower_emissions.outstanding_yuan,
        borrower_emissions.attribution_denominator_yuan,
        borrower_emissions.attribution_basis,
        borrower_emissions.attribution_factor,
        borrower_emissions.is_factor_capped,
        borrower_emissions.emission_basis,
        cast(quality_scores.data_quality_score as integer) as data_quality_score,
        cast(borrower_emissions.borrower_scope1_tco2e as decimal(18, 4)) as borrower_scope1_tco2e,
        cast(borrower_emissions.borrower_scope2_tco2e as decimal(18, 4)) as borrower_scope2_tco2e,
        -- factor (10 places) × t CO2e (4 places), rounded half up to 4 places
        cast(round(cast(borrower_emissions.attribution_factor as decimal(38, 10))
                   * cast(borrower_emissions.borrower_scope1_tco2e as decimal(38, 4)), 4)
             as decimal(18, 4)) as financed_scope1_tco2e,
        cast(round(cast(borrower_emissions.attribution_factor as decimal(38, 10))
                   * cast(borrower_emissions.borrower_scope2_tco2e as decimal(38, 4)), 4)
             as decimal(18, 4)) as financed_scope2_tco2e,
        -- scope 3 of borrowers is in no source of the lake
        cast(null as decimal(18, 4)) as financed_scope3_tco2e,
        borrower_emissions.all_missing_inputs as missing_inputs,
        borrower_emissions.inputs_loaded_at
    from borrower_emissions
    left join quality_scores
        on quality_scores.emission_basis = borrower_emissions.emission_basis

)

select * from final
