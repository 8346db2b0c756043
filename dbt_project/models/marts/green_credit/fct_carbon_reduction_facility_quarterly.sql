-- The quarterly disclosure table of the PBoC carbon-emission-reduction support facility (碳减排支持工具), per bank,
-- quarter and field (PBoC announcement of 2021-11-08: banks disclose field, project count, amount, weighted average
-- rate and carbon reduction each quarter; domain-methods.md [C]).
--   outstanding figures  eligible loans reported in the quarter's last report month (quarter_end_month)
--   originated figures   eligible loans originated in the quarter, at their first report in the quarter
--   weighted rate        Σ(balance × rate) ÷ Σ balance, percent, 4 places half up
--   reduction            Σ attributed annual CO2e reduction of the loans with complete inputs (see the intermediate)
--   refinancing          refinancing_share (60%) × principal of the loans originated in the quarter, to the fen
-- A quarter is published for a bank once the bank's report of the quarter's last month is in the lake.

-- Kept by quarter. The loan reports are watched as well as the intermediate: a reloaded quarter left with no eligible
-- loan leaves no row in the intermediate to signal it, and must still be emptied here.
{%- set quarter_end = "cast(" ~ dbt.dateadd('month', 2, dbt.date_trunc('quarter', 'report_month')) ~ " as date)" %}
{{ config(**incremental_by_period('quarter_end_month', inputs=[
    ['int_green_credit__crf_loans', 'quarter_end_month', 'inputs_loaded_at'],
    ['stg_bank__loans', quarter_end, 'loaded_at']])) }}

with

crf_loans as (

    select * from {{ ref('int_green_credit__crf_loans') }}
    where {{ periods_to_rebuild('quarter_end_month') }}

),

-- the (bank, month) reports present: a quarter is complete for a bank when its last month is among them
bank_reports as (

    select distinct bank_code, report_month from {{ ref('stg_bank__loans') }}

),

outstanding as (

    select
        bank_code,
        quarter_end_month,
        crf_field_code,
        max(bank_name) as bank_name,
        count(distinct project_key) as project_count,
        count(*) as loan_count,
        sum(case when has_missing_inputs then 1 else 0 end) as missing_inputs_loan_count,
        sum(balance_yuan) as outstanding_yuan,
        sum(balance_times_rate) as balance_times_rate,
        sum(attributed_annual_co2e_reduction_t) as attributed_annual_co2e_reduction_t,
        sum(case when is_attribution_capped then 1 else 0 end) as capped_loan_count,
        max(inputs_loaded_at) as inputs_loaded_at
    from crf_loans
    where report_month = quarter_end_month
    group by bank_code, quarter_end_month, crf_field_code

),

originated as (

    select
        bank_code,
        quarter_end_month,
        crf_field_code,
        max(bank_name) as bank_name,
        count(*) as originated_loan_count,
        sum(balance_yuan) as originated_yuan,
        sum(refinancing_base_yuan) as refinancing_base_yuan,
        max(inputs_loaded_at) as inputs_loaded_at
    from crf_loans
    where is_origination_report
    group by bank_code, quarter_end_month, crf_field_code

),

joined as (

    select
        coalesce(outstanding.bank_code, originated.bank_code) as bank_code,
        coalesce(outstanding.quarter_end_month, originated.quarter_end_month) as quarter_end_month,
        coalesce(outstanding.crf_field_code, originated.crf_field_code) as crf_field_code,
        coalesce(outstanding.bank_name, originated.bank_name) as bank_name,
        outstanding.project_count,
        outstanding.loan_count,
        outstanding.missing_inputs_loan_count,
        outstanding.capped_loan_count,
        outstanding.outstanding_yuan,
        outstanding.balance_times_rate,
        outstanding.attributed_annual_co2e_reduction_t,
        originated.originated_loan_count,
        originated.originated_yuan,
        originated.refinancing_base_yuan,
        greatest(outstanding.inputs_loaded_at, originated.inputs_loaded_at) as inputs_loaded_at
    from outstanding
    full outer join originated
        on originated.bank_code = outstanding.bank_code
        and originated.quarter_end_month = outstanding.quarter_end_month
        and originated.crf_field_code = outstanding.crf_field_code

),

final as (

    select
        joined.bank_code,
        joined.bank_name,
        joined.quarter_end_month,
        joined.crf_field_code,
        case joined.crf_field_code
            when 'clean_energy' then '清洁能源'
            when 'energy_saving_environmental' then '节能环保'
            when 'carbon_reduction_technology' then '碳减排技术'
            else '未映射'
        end as crf_field_name_zh,
        cast(coalesce(joined.project_count, 0) as bigint) as project_count,
        cast(coalesce(joined.loan_count, 0) as bigint) as loan_count,
        cast(coalesce(joined.outstanding_yuan, 0) as decimal(20, 2)) as outstanding_yuan,
        cast(coalesce(joined.originated_loan_count, 0) as bigint) as originated_loan_count,
        cast(coalesce(joined.originated_yuan, 0) as decimal(20, 2)) as originated_yuan,
        cast({{ exact_ratio('joined.balance_times_rate', 'joined.outstanding_yuan', 4) }} as decimal(9, 4))
            as weighted_avg_interest_rate_pct,
        cast(coalesce(joined.attributed_annual_co2e_reduction_t, 0) as decimal(20, 4))
            as attributed_annual_co2e_reduction_t,
        cast(coalesce(joined.missing_inputs_loan_count, 0) as bigint) as missing_inputs_loan_count,
        cast(coalesce(joined.capped_loan_count, 0) as bigint) as capped_attribution_loan_count,
        cast(round(coalesce(joined.refinancing_base_yuan, 0), 2) as decimal(20, 2)) as refinancing_amount_yuan,
        max(joined.inputs_loaded_at) over (partition by joined.quarter_end_month) as inputs_loaded_at
    from joined
    inner join bank_reports
        on bank_reports.bank_code = joined.bank_code
        and bank_reports.report_month = joined.quarter_end_month

)

select * from final
