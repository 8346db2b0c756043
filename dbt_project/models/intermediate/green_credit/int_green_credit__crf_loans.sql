-- Loans eligible for the PBoC carbon-emission-reduction support facility (碳减排支持工具), one row per bank, loan and
-- report month, with the facility field, the quarter, the attributed annual CO2e reduction and the refinancing base.
-- Method: PBoC announcement of 2021-11-08 (domain-methods.md "Carbon-emission-reduction support facility" [C]):
--   field         three fields; the green-loan category is mapped with seed crf_field_of_category (longest prefix)
--   attribution   loan's annual reduction = project's annual CO2e reduction × loan balance ÷ project total investment,
--                 the share loan ÷ investment capped at 1 (a loan cannot carry more than its project's reduction)
--   refinancing   the PBoC relends refinancing_share (60%) of the principal of loans originated in the quarter;
--                 principal = the balance in the loan's first report of its origination quarter (the loan report
--                 carries no disbursed amount), parameters in force at the origination date
--                 (seed carbon_reduction_facility_parameters); a loan originated before the first period in
--                 force has no refinancing (refinancing_share null, base 0).

{%- set quarter_end = "cast(" ~ dbt.dateadd('month', 2, dbt.date_trunc('quarter', 'report_month')) ~ " as date)" %}
{{ config(**incremental_by_period('quarter_end_month', inputs=[['stg_bank__loans', quarter_end, 'loaded_at']])) }}

with

-- kept quarter by quarter: a quarter is recomputed when a report of one of its months is (re)loaded
loans as (

    select * from {{ ref('stg_bank__loans') }}
    where is_crf_eligible
        and {{ periods_to_rebuild(quarter_end) }}

),

field_map as (

    select * from {{ ref('crf_field_of_category') }}

),

parameters as (

    select * from {{ ref('carbon_reduction_facility_parameters') }}

),

-- every mapping row whose prefix is the code itself or a parent of it; the longest prefix wins
field_candidates as (

    select
        loans.bank_code,
        loans.loan_id,
        loans.report_month,
        field_map.crf_field_code,
        row_number() over (
            partition by loans.bank_code, loans.loan_id, loans.report_month
            order by {{ dbt.length('field_map.category_code_prefix') }} desc
        ) as prefix_rank
    from loans
    inner join field_map
        on field_map.taxonomy_version = loans.taxonomy_version
        and (
            loans.green_category_code = field_map.category_code_prefix
            or loans.green_category_code like {{ dbt.concat(['field_map.category_code_prefix', "'.%'"]) }}
        )

),

with_quarter as (

    select
        loans.*,
        coalesce(field_candidates.crf_field_code, 'unmapped') as crf_field_code,
        cast({{ dbt.date_trunc('quarter', 'loans.report_month') }} as date) as quarter_start_month,
        cast({{ dbt.dateadd('month', 2, dbt.date_trunc('quarter', 'loans.report_month')) }} as date)
            as quarter_end_month,
        cast({{ dbt.date_trunc('quarter', 'loans.origination_date') }} as date) as origination_quarter_start,
        row_number() over (
            partition by loans.bank_code, loans.loan_id, {{ dbt.date_trunc('quarter', 'loans.report_month') }}
            order by loans.report_month
        ) as report_rank_in_quarter
    from loans
    left join field_candidates
        on field_candidates.bank_code = loans.bank_code
        and field_candidates.loan_id = loans.loan_id
        and field_candidates.report_month = loans.report_month
        and field_candidates.prefix_rank = 1

),

flagged as (

    select
        with_quarter.*,
        (project_total_investment_yuan is null or project_total_investment_yuan <= 0) as is_investment_missing,
        (project_annual_co2e_reduction_t is null) as is_reduction_missing,
        (origination_quarter_start = quarter_start_month and report_rank_in_quarter = 1)
            as is_origination_report
    from with_quarter

),

final as (

    select
        flagged.report_month,
        flagged.quarter_end_month,
        flagged.bank_code,
        flagged.bank_name,
        flagged.loan_id,
        -- the loan report has no project id: a project is the borrower's project of that total investment and
        -- annual reduction (hashed, so the intermediate does not carry the borrower's id in clear)
        {{ dbt.hash(dbt.concat([
            'flagged.borrower_id', "'|'",
            "coalesce(cast(flagged.project_total_investment_yuan as " ~ dbt.type_string() ~ "), '')", "'|'",
            "coalesce(cast(flagged.project_annual_co2e_reduction_t as " ~ dbt.type_string() ~ "), '')"
        ])) }} as project_key,
        flagged.taxonomy_version,
        flagged.green_category_code,
        flagged.crf_field_code,
        flagged.origination_date,
        flagged.is_origination_report,
        flagged.balance_yuan,
        flagged.interest_rate_pct,
        cast(flagged.balance_yuan * flagged.interest_rate_pct as decimal(28, 6)) as balance_times_rate,
        flagged.project_total_investment_yuan,
        flagged.project_annual_co2e_reduction_t,
        {{ attribution_share('flagged.balance_yuan', 'flagged.project_total_investment_yuan') }} as attribution_share,
        case
            when flagged.is_investment_missing then null
            else flagged.balance_yuan > flagged.project_total_investment_yuan
        end as is_attribution_capped,
        {{ attributed_benefit('flagged.project_annual_co2e_reduction_t', 'flagged.balance_yuan',
                              'flagged.project_total_investment_yuan') }} as attributed_annual_co2e_reduction_t,
        (flagged.is_investment_missing or flagged.is_reduction_missing or flagged.crf_field_code = 'unmapped')
            as has_missing_inputs,
        nullif({{ dbt.concat([
            "case when flagged.is_investment_missing then 'project_total_investment;' else '' end",
            "case when flagged.is_reduction_missing then 'project_annual_co2e_reduction;' else '' end",
            "case when flagged.crf_field_code = 'unmapped' then 'crf_field;' else '' end"
        ]) }}, '') as missing_inputs,
        parameters.refinancing_share,
        parameters.relending_rate_pct,
        -- unrounded (fen × share); the mart rounds the quarter's sum to the fen
        case
            when flagged.is_origination_report and parameters.refinancing_share is not null
                then cast(flagged.balance_yuan * parameters.refinancing_share as decimal(24, 6))
            else cast(0 as decimal(24, 6))
        end as refinancing_base_yuan,
        flagged.loaded_at as inputs_loaded_at
    from flagged
    left join parameters
        on flagged.origination_date >= parameters.valid_from
        and (parameters.valid_to is null or flagged.origination_date < parameters.valid_to)

)

select * from final
