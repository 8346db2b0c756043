-- Financed emissions per bank, year, industry section and high-carbon sector, for the disclosure of the
-- environmental impact of financing activities (JR/T 0227-2021 [C]: financed emissions and high-carbon exposure by
-- industry) computed by PCAF Part A, 2nd ed. (2022) ([C], ../shared/reference/domain-methods.md):
--   financed scope 1 + 2 = Σ of the loans' financed emissions (fct_financed_emissions_loan_yearly)
--   emission intensity  = financed scope 1 + 2 (t CO2e) × 10,000 ÷ outstanding of the loans with known emissions
--                         (t CO2e per 10,000 yuan lent); loans with unknown emissions are left out of both sides
--                         and flagged (missing_inputs = financed_emissions), never counted as 0
--   data quality score  = Σ (score × outstanding) ÷ Σ outstanding over the loans PCAF covers (PCAF 4.x: the
--                         outstanding-weighted average)
--   high-carbon exposure = outstanding to loans of the eight national-carbon-market sectors (seed
--                         high_carbon_industries): high_carbon_outstanding_yuan
-- Every loan is counted in outstanding_yuan, out-of-scope (consumer) loans included, so the mart reconciles to the
-- loan mart (singular test assert_pcaf_bank_industry_outstanding_reconciles_to_loans).
-- Kept year by year (macro incremental_by_period): a year is recomputed when its loan-mart rows are rebuilt;
-- inputs_loaded_at is the newest inputs_loaded_at of the year's loans.

{{ config(**incremental_by_period('year', inputs=[
    ['fct_financed_emissions_loan_yearly', 'year', 'inputs_loaded_at']],
    not_watched=['stg_public__industry_codes'])) }}

with

loans as (

    select * from {{ ref('fct_financed_emissions_loan_yearly') }}
    where {{ periods_to_rebuild('year') }}

),

sections as (

    select section_code, industry_name as section_name
    from {{ ref('stg_public__industry_codes') }}
    where division_code is null

),

aggregated as (

    select
        year,
        bank_code,
        max(bank_name) as bank_name,
        industry_section,
        high_carbon_sector,
        count(*) as loan_count,
        sum(outstanding_yuan) as outstanding_yuan,
        sum(case when asset_class is not null and asset_class <> 'out_of_scope' then outstanding_yuan else 0 end)
            as covered_outstanding_yuan,
        sum(case when financed_scope1_tco2e is not null and financed_scope2_tco2e is not null
            then outstanding_yuan else 0 end) as outstanding_with_emissions_yuan,
        sum(case when asset_class is not null and asset_class <> 'out_of_scope'
            and (financed_scope1_tco2e is null or financed_scope2_tco2e is null)
            then outstanding_yuan else 0 end) as outstanding_emissions_unknown_yuan,
        sum(case when asset_class is null then 1 else 0 end) as unmapped_loan_count,
        sum(case when financed_scope2_tco2e is not null then financed_scope1_tco2e end) as financed_scope1_tco2e,
        sum(case when financed_scope1_tco2e is not null then financed_scope2_tco2e end) as financed_scope2_tco2e,
        sum(financed_scope1_tco2e + financed_scope2_tco2e) as financed_scope12_tco2e,
        sum(case when data_quality_score is not null then data_quality_score * outstanding_yuan end)
            as score_weighted_outstanding,
        sum(case when data_quality_score is not null then outstanding_yuan end) as scored_outstanding_yuan,
        max(inputs_loaded_at) as inputs_loaded_at
    from loans
    group by year, bank_code, industry_section, high_carbon_sector

),

final as (

    select
        aggregated.year,
        aggregated.bank_code,
        aggregated.bank_name,
        aggregated.industry_section,
        sections.section_name,
        aggregated.high_carbon_sector,
        aggregated.high_carbon_sector is not null as is_high_carbon,
        cast(aggregated.loan_count as bigint) as loan_count,
        cast(aggregated.outstanding_yuan as decimal(20, 2)) as outstanding_yuan,
        cast(aggregated.covered_outstanding_yuan as decimal(20, 2)) as covered_outstanding_yuan,
        cast(case when aggregated.high_carbon_sector is not null then aggregated.outstanding_yuan else 0 end
             as decimal(20, 2)) as high_carbon_outstanding_yuan,
        cast(aggregated.outstanding_with_emissions_yuan as decimal(20, 2)) as outstanding_with_emissions_yuan,
        cast(aggregated.financed_scope1_tco2e as decimal(20, 4)) as financed_scope1_tco2e,
        cast(aggregated.financed_scope2_tco2e as decimal(20, 4)) as financed_scope2_tco2e,
        cast(aggregated.financed_scope12_tco2e as decimal(20, 4)) as financed_scope12_tco2e,
        -- t CO2e per 10,000 yuan lent, exact to 6 places (half up); null when no loan has known emissions
        cast(case when aggregated.outstanding_with_emissions_yuan > 0
            then {{ exact_ratio('aggregated.financed_scope12_tco2e * 10000',
                                'aggregated.outstanding_with_emissions_yuan', 6) }}
        end as decimal(18, 6)) as emission_intensity_tco2e_per_10k_yuan,
        -- outstanding-weighted PCAF data quality score, exact to 2 places (half up); null when no loan is scored
        cast(case when aggregated.scored_outstanding_yuan > 0
            then {{ exact_ratio('aggregated.score_weighted_outstanding', 'aggregated.scored_outstanding_yuan', 2) }}
        end as decimal(5, 2)) as weighted_data_quality_score,
        nullif(concat_ws(', ',
            case when aggregated.outstanding_emissions_unknown_yuan > 0 then 'financed_emissions' end,
            case when aggregated.unmapped_loan_count > 0 then 'asset_class' end
        ), '') as missing_inputs,
        max(aggregated.inputs_loaded_at) over (partition by aggregated.year) as inputs_loaded_at
    from aggregated
    left join sections
        on sections.section_code = aggregated.industry_section

)

select * from final
