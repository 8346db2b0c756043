-- Green loans classified for the PBoC green-loan statistics, one row per bank, loan and report month.
-- Method (../shared/reference/domain-methods.md "Green taxonomies and statistics" and "PBoC green-loan statistics" [C]):
--   taxonomy in force  the version of stg_public__green_taxonomies whose effective_from <= the report month's last day
--                      and effective_to null or >= it (the latest effective_from if two overlap); the bank's own
--                      taxonomy_version is kept and is_taxonomy_mismatch set when it is not the one in force
--   first level        statistics are reported by the six first-level industries of the Green Industry Guidance
--                      Catalogue (2019): the loan's category as a 2019 code (the code itself under GICG2019; the
--                      taxonomy row's gicg2019_code under a later catalogue, e.g. GBEPC2021 level 4 = GICG2019 level 3),
--                      whose first dotted segment is the first level; without a 2019 code, the 2019 first level
--                      of the same name as the category's own first level; otherwise unmapped (missing input)
--   benefit type       direct / indirect / none carbon-reduction benefit (PBoC 直接/间接碳减排效益) from seed
--                      green_category_carbon_benefit, the second-level row overriding the first-level one [U]
--   attribution        environmental benefits are attributed by loan ÷ total project investment (PBoC): share =
--                      min(1, balance ÷ project_total_investment); attributed CO2e avoided = project annual CO2e
--                      reduction × share; null, and named in missing_inputs, when either input is missing or zero
--   standard coal      standard coal saved is one of the PBoC's 7 benefit indicators, but the loan report carries
--                      no project standard-coal figure: standard_coal_saved_tce is null and missing_inputs names
--                      project_standard_coal_saved on every row (not invented, not 0)

{%- set reference_version = "'GICG2019'" %}
{{ config(**incremental_by_period('report_month', inputs=[['stg_bank__loans', 'report_month', 'loaded_at']],
    not_watched=['stg_public__green_taxonomies'])) }}

with

loans as (

    select * from {{ ref('stg_bank__loans') }}
    where is_green and {{ periods_to_rebuild('report_month') }}

),

taxonomy as (

    select * from {{ ref('stg_public__green_taxonomies') }}

),

benefit as (

    select * from {{ ref('green_category_carbon_benefit') }}

),

versions as (

    select distinct taxonomy_version, effective_from, effective_to from taxonomy

),

report_months as (

    select distinct
        report_month,
        cast({{ dbt.last_day('report_month', 'month') }} as date) as report_month_end
    from loans

),

version_in_force as (

    select
        report_months.report_month,
        report_months.report_month_end,
        versions.taxonomy_version,
        row_number() over (
            partition by report_months.report_month order by versions.effective_from desc
        ) as version_rank
    from report_months
    inner join versions
        on versions.effective_from <= report_months.report_month_end
        and (versions.effective_to is null or versions.effective_to >= report_months.report_month_end)

),

with_versions as (

    select
        loans.*,
        report_months.report_month_end,
        version_in_force.taxonomy_version as taxonomy_version_in_force,
        own_category.category_name as bank_category_name,
        own_first_level.category_name as own_first_level_name,
        case
            when loans.taxonomy_version = {{ reference_version }} then loans.green_category_code
            else own_category.gicg2019_code
        end as gicg2019_code
    from loans
    inner join report_months
        on report_months.report_month = loans.report_month
    left join version_in_force
        on version_in_force.report_month = loans.report_month
        and version_in_force.version_rank = 1
    left join taxonomy as own_category
        on own_category.taxonomy_version = loans.taxonomy_version
        and own_category.category_code = loans.green_category_code
    left join taxonomy as own_first_level
        on own_first_level.taxonomy_version = loans.taxonomy_version
        and own_first_level.category_level = 1
        and own_first_level.category_code = {{ dbt.split_part('loans.green_category_code', "'.'", 1) }}

),

-- the in-force version's code of the loan's category, through the 2019 code both catalogues refer to
crosswalk as (

    select taxonomy_version, gicg2019_code, min(category_code) as category_code
    from taxonomy
    where gicg2019_code is not null
    group by taxonomy_version, gicg2019_code

),

with_first_level as (

    select
        with_versions.*,
        case
            when with_versions.taxonomy_version = with_versions.taxonomy_version_in_force
                then with_versions.green_category_code
            when with_versions.taxonomy_version_in_force = {{ reference_version }} then with_versions.gicg2019_code
            else crosswalk.category_code
        end as category_code_in_force,
        case
            when with_versions.gicg2019_code is not null
                then {{ dbt.split_part('with_versions.gicg2019_code', "'.'", 1) }}
            else same_name_first_level.category_code
        end as green_first_level_code,
        case
            when with_versions.taxonomy_version = {{ reference_version }} and with_versions.gicg2019_code is not null
                then 'own_code'
            when with_versions.gicg2019_code is not null then 'gicg2019_code'
            when same_name_first_level.category_code is not null then 'first_level_name'
        end as first_level_mapping,
        case
            when with_versions.gicg2019_code like '%.%'
                then {{ dbt.concat([
                    dbt.split_part('with_versions.gicg2019_code', "'.'", 1), "'.'",
                    dbt.split_part('with_versions.gicg2019_code', "'.'", 2)]) }}
        end as gicg2019_second_level_code
    from with_versions
    left join crosswalk
        on crosswalk.taxonomy_version = with_versions.taxonomy_version_in_force
        and crosswalk.gicg2019_code = with_versions.gicg2019_code
    left join taxonomy as same_name_first_level
        on same_name_first_level.taxonomy_version = {{ reference_version }}
        and same_name_first_level.category_level = 1
        and same_name_first_level.category_name = with_versions.own_first_level_name

),

flagged as (

    select
        with_first_level.*,
        first_level.category_name as green_first_level_name,
        coalesce(second_level_benefit.benefit_type, first_level_benefit.benefit_type) as carbon_benefit_type,
        (with_first_level.green_first_level_code is null) as is_category_unmapped,
        (project_total_investment_yuan is null or project_total_investment_yuan <= 0) as is_investment_missing,
        (project_annual_co2e_reduction_t is null or project_annual_co2e_reduction_t = 0) as is_reduction_missing
    from with_first_level
    left join taxonomy as first_level
        on first_level.taxonomy_version = {{ reference_version }}
        and first_level.category_level = 1
        and first_level.category_code = with_first_level.green_first_level_code
    left join benefit as first_level_benefit
        on first_level_benefit.category_level = 1
        and first_level_benefit.gicg2019_category_code = with_first_level.green_first_level_code
    left join benefit as second_level_benefit
        on second_level_benefit.category_level = 2
        and second_level_benefit.gicg2019_category_code = with_first_level.gicg2019_second_level_code

),

final as (

    select
        report_month,
        report_month_end,
        bank_code,
        loan_id,
        borrower_id,
        borrower_type,
        industry_code,
        district_code,
        five_category,
        origination_date,
        balance_yuan,
        taxonomy_version,
        green_category_code,
        bank_category_name,
        taxonomy_version_in_force,
        (taxonomy_version_in_force is null or taxonomy_version <> taxonomy_version_in_force) as is_taxonomy_mismatch,
        category_code_in_force,
        gicg2019_code,
        first_level_mapping,
        green_first_level_code,
        green_first_level_name,
        carbon_benefit_type,
        project_total_investment_yuan,
        project_annual_co2e_reduction_t,
        {{ attribution_share('balance_yuan', 'project_total_investment_yuan') }} as attribution_share,
        case when not is_investment_missing then balance_yuan > project_total_investment_yuan end
            as is_attribution_capped,
        -- a reduction of 0 reported for a green project is taken as not reported (flagged, not attributed)
        {{ attributed_benefit('nullif(project_annual_co2e_reduction_t, 0)', 'balance_yuan',
                              'project_total_investment_yuan') }} as attributed_annual_co2e_avoided_t,
        -- the loan report has no project standard-coal figure: never invented, never 0
        cast(null as decimal(18, 4)) as standard_coal_saved_tce,
        (is_investment_missing or is_reduction_missing) as is_co2e_input_missing,
        {{ dbt.concat([
            "case when is_category_unmapped then 'gicg2019_first_level,' else '' end",
            "case when is_investment_missing then 'project_total_investment,' else '' end",
            "case when is_reduction_missing then 'project_annual_co2e_reduction,' else '' end",
            "'project_standard_coal_saved'"
        ]) }} as missing_inputs,
        loaded_at as inputs_loaded_at
    from flagged

)

select * from final
