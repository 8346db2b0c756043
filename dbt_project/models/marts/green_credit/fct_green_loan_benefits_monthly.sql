-- The "decarbonised" view of green credit: green loans per report month, bank, first-level green category
-- (Green Industry Guidance Catalogue 2019) and carbon-reduction benefit type (PBoC green-loan statistics: loans with
-- direct / indirect carbon-reduction benefit, 直接/间接碳减排效益; ../shared/reference/domain-methods.md [C]; the
-- category → benefit-type mapping is seed green_category_carbon_benefit [U]), with the attributed environmental
-- benefits (PBoC: project benefit × loan ÷ total project investment, computed per loan in
-- int_green_credit__green_loans_classified).
--   attributed_annual_co2e_avoided_t   Σ over the loans with complete inputs; the loans without are counted in
--                                      missing_inputs_loan_count and named in missing_inputs (never a silent 0)
--   standard_coal_saved_tce            null: the loan report carries no project standard-coal figure;
--                                      missing_inputs always names project_standard_coal_saved

-- Kept by month. The loan reports are watched as well as the intermediate: a reloaded month left with no green loan
-- leaves no row in the intermediate to signal it, and must still be emptied here.
{{ config(**incremental_by_period('report_month', inputs=[
    ['int_green_credit__green_loans_classified', 'report_month', 'inputs_loaded_at'],
    ['stg_bank__loans', 'report_month', 'loaded_at']],
    not_watched=['stg_bank__institutions'])) }}

with

green_loans as (

    select * from {{ ref('int_green_credit__green_loans_classified') }}
    where {{ periods_to_rebuild('report_month') }}

),

institutions as (

    select institution_code, institution_name from {{ ref('stg_bank__institutions') }}

),

grouped as (

    select
        report_month,
        bank_code,
        coalesce(green_first_level_code, 'unmapped') as green_category_code,
        coalesce(carbon_benefit_type, 'unknown') as carbon_benefit_type,
        max(green_first_level_name) as green_first_level_name,
        count(*) as green_loan_count,
        sum(balance_yuan) as green_balance_yuan,
        sum(case when attributed_annual_co2e_avoided_t is not null then 1 else 0 end) as benefit_data_loan_count,
        sum(case when attributed_annual_co2e_avoided_t is not null then balance_yuan else 0 end)
            as benefit_data_balance_yuan,
        sum(attributed_annual_co2e_avoided_t) as attributed_annual_co2e_avoided_t,
        sum(case when is_co2e_input_missing then 1 else 0 end) as missing_inputs_loan_count,
        sum(case when missing_inputs like '%project_total_investment%' then 1 else 0 end) as investment_missing_count,
        sum(case when missing_inputs like '%project_annual_co2e_reduction%' then 1 else 0 end) as reduction_missing_count,
        sum(case when missing_inputs like '%gicg2019_first_level%' then 1 else 0 end) as unmapped_count,
        sum(case when is_taxonomy_mismatch then 1 else 0 end) as taxonomy_mismatch_loan_count,
        max(inputs_loaded_at) as inputs_loaded_at
    from green_loans
    group by
        report_month,
        bank_code,
        coalesce(green_first_level_code, 'unmapped'),
        coalesce(carbon_benefit_type, 'unknown')

),

final as (

    select
        grouped.report_month,
        grouped.bank_code,
        institutions.institution_name as bank_name,
        grouped.green_category_code,
        case grouped.green_category_code
            when 'unmapped' then '未映射'
            else grouped.green_first_level_name
        end as green_category_name,
        grouped.carbon_benefit_type,
        cast(grouped.green_loan_count as bigint) as green_loan_count,
        cast(grouped.green_balance_yuan as decimal(20, 2)) as green_balance_yuan,
        cast(grouped.benefit_data_loan_count as bigint) as benefit_data_loan_count,
        cast(grouped.benefit_data_balance_yuan as decimal(20, 2)) as benefit_data_balance_yuan,
        cast(grouped.attributed_annual_co2e_avoided_t as decimal(20, 4)) as attributed_annual_co2e_avoided_t,
        cast(null as decimal(20, 4)) as standard_coal_saved_tce,
        cast(grouped.missing_inputs_loan_count as bigint) as missing_inputs_loan_count,
        {{ dbt.concat([
            "case when grouped.unmapped_count > 0 then 'gicg2019_first_level,' else '' end",
            "case when grouped.investment_missing_count > 0 then 'project_total_investment,' else '' end",
            "case when grouped.reduction_missing_count > 0 then 'project_annual_co2e_reduction,' else '' end",
            "'project_standard_coal_saved'"
        ]) }} as missing_inputs,
        cast(grouped.taxonomy_mismatch_loan_count as bigint) as taxonomy_mismatch_loan_count,
        max(grouped.inputs_loaded_at) over (partition by grouped.report_month) as inputs_loaded_at
    from grouped
    left join institutions on institutions.institution_code = grouped.bank_code

)

select * from final
