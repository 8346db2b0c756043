-- The fixed set of measures the lake computes for the plan's indicators (湖州市绿色金融发展“十四五”规划 2021-2025;
-- which indicator uses which measure is data: seed plan_indicator_sources), one row per report month (from
-- plan_progress_parameters.first_report_month, months of a loan or deposit report), measure and cumulation start,
-- in the measure's native unit (元, %, 家, 单). A measure that cannot be computed for the month is null and
-- missing_inputs says which input is missing (never 0).
--   loan stock measures      int_plan__loan_measures_monthly (kept month by month)
--   green_loan_share_pct     Σ green balance ÷ Σ balance × 100, 4 places half up
--   npl_ratio_pct            Σ balance 次级+可疑+损失 ÷ Σ balance × 100 (不良贷款率), 4 places half up
--   premium_income_ytd       Σ premium year to date, all insurers and lines (保费收入; the year's income in December)
--   green_premium_yoy_growth_pct  (green premium YTD ÷ green premium YTD of the same month a year before − 1) × 100
--   listed_company_count     read from fct_listed_companies_monthly (capital-markets theme, its one source)
--   direct_financing_cumulative   read from fct_direct_financing_cumulative_monthly (capital-markets theme: Σ amounts
--                            of the types the plan counts, seed plan_direct_financing_types footnote [3], from the
--                            cumulation start); a cumulation starting before the lake's history stays missing here
--   green_bond_issue_count_cumulative  green bonds issued from cumulation_start to the month
-- Cumulative and year-on-year measures need the history, so this model is a table (rebuilt in full; it reads the
-- small monthly aggregates, not the loan reports). A cumulation starting before the lake's history is missing.

with

parameters as (

    select * from {{ ref('plan_progress_parameters') }}

),

loan_measures as (

    select loan_measures.*
    from {{ ref('int_plan__loan_measures_monthly') }} as loan_measures
    cross join parameters
    where loan_measures.report_month >= parameters.first_report_month

),

months as (

    select report_month from loan_measures

),

cumulations as (

    select distinct measure_key, cumulation_start
    from {{ ref('plan_indicator_sources') }}
    where cumulation_start is not null

),

premiums as (

    select
        report_month,
        sum(premium_ytd_yuan) as premium_ytd_yuan,
        sum(case when is_green then premium_ytd_yuan else 0 end) as green_premium_ytd_yuan
    from {{ ref('stg_bank__insurance_premiums') }}
    group by report_month

),

listed as (

    select report_month, listed_company_count from {{ ref('fct_listed_companies_monthly') }}

),

direct_financing as (

    select distinct report_month, cumulation_start, direct_financing_cumulative_yuan
    from {{ ref('fct_direct_financing_cumulative_monthly') }}

),

green_bonds as (

    select issue_month from {{ ref('stg_bank__green_bonds') }}

),

stock as (

    {%- set loan_missing = "case when not has_loan_report then 'stg_bank__loans: no loan report for the month' end" %}
    {%- set stocks = ['loan_balance', 'green_loan_balance', 'manufacturing_loan_balance', 'small_micro_loan_balance',
                      'medium_long_term_loan_balance', 'enterprise_credit_loan_balance'] %}
    {%- for measure in stocks %}
    select
        report_month,
        '{{ measure }}' as measure_key,
        cast(null as date) as cumulation_start,
        cast({{ measure }}_yuan as decimal(24, 4)) as measure_value,
        {{ loan_missing }} as missing_inputs
    from loan_measures
    union all
    {%- endfor %}
    select
        report_month,
        'deposit_balance' as measure_key,
        cast(null as date) as cumulation_start,
        cast(deposit_balance_yuan as decimal(24, 4)) as measure_value,
        case when not has_deposit_report then 'stg_bank__deposits: no deposit report for the month' end
            as missing_inputs
    from loan_measures
    {%- for measure, numerator in [('green_loan_share_pct', 'green_loan_balance_yuan'),
                                   ('npl_ratio_pct', 'npl_balance_yuan')] %}
    union all
    select
        report_month,
        '{{ measure }}' as measure_key,
        cast(null as date) as cumulation_start,
        cast({{ exact_ratio(numerator ~ ' * 100', 'loan_balance_yuan', 4) }} as decimal(24, 4)) as measure_value,
        case
            when not has_loan_report then 'stg_bank__loans: no loan report for the month'
            when loan_balance_yuan = 0 then 'stg_bank__loans: no loan balance for the month'
        end as missing_inputs
    from loan_measures
    {%- endfor %}

),

insurance as (

    select
        months.report_month,
        'premium_income_ytd' as measure_key,
        cast(null as date) as cumulation_start,
        cast(current_year.premium_ytd_yuan as decimal(24, 4)) as measure_value,
        case when current_year.report_month is null
            then 'stg_bank__insurance_premiums: no premium report for the month' end as missing_inputs
    from months
    left join premiums as current_year on current_year.report_month = months.report_month

    union all

    select
        months.report_month,
        'green_premium_yoy_growth_pct' as measure_key,
        cast(null as date) as cumulation_start,
        case
            when current_year.report_month is not null and previous_year.green_premium_ytd_yuan > 0
                then cast({{ exact_ratio('current_year.green_premium_ytd_yuan * 100',
                                         'previous_year.green_premium_ytd_yuan', 4) }} - 100 as decimal(24, 4))
        end as measure_value,
        case
            when current_year.report_month is null
                then 'stg_bank__insurance_premiums: no premium report for the month'
            when previous_year.report_month is null
                then 'stg_bank__insurance_premiums: no premium report for the same month a year before'
            when previous_year.green_premium_ytd_yuan = 0
                then 'stg_bank__insurance_premiums: no green premium in the same month a year before'
        end as missing_inputs
    from months
    left join premiums as current_year on current_year.report_month = months.report_month
    left join premiums as previous_year
        on previous_year.report_month = cast({{ dbt.dateadd('month', -12, 'months.report_month') }} as date)

),

listings as (

    select
        months.report_month,
        'listed_company_count' as measure_key,
        cast(null as date) as cumulation_start,
        cast(listed.listed_company_count as decimal(24, 4)) as measure_value,
        case when listed.report_month is null
            then 'fct_listed_companies_monthly: no figure for the month' end as missing_inputs
    from months
    left join listed on listed.report_month = months.report_month

),

cumulative_inputs as (

    select
        'green_bond_issue_count_cumulative' as measure_key,
        issue_month as event_month,
        1 as amount,
        'stg_bank__green_bonds' as input_name
    from green_bonds

),

cumulative as (

    select
        months.report_month,
        cumulations.measure_key,
        cumulations.cumulation_start,
        case
            when cumulations.cumulation_start >= max(parameters.lake_history_start_month)
                and months.report_month >= cumulations.cumulation_start
                then case when cumulations.measure_key = 'direct_financing_cumulative'
                    then cast(max(direct_financing.direct_financing_cumulative_yuan) as decimal(24, 4))
                    else cast(coalesce(sum(cumulative_inputs.amount), 0) as decimal(24, 4)) end
        end as measure_value,
        case
            when cumulations.cumulation_start < max(parameters.lake_history_start_month)
                then case cumulations.measure_key
                    when 'direct_financing_cumulative' then 'stg_enterprise__direct_financings'
                    else 'stg_bank__green_bonds' end
                    || ': months before ' || substring(cast(max(parameters.lake_history_start_month)
                                                         as {{ dbt.type_string() }}), 1, 7)
                    || ' not in the lake (cumulation from '
                    || substring(cast(cumulations.cumulation_start as {{ dbt.type_string() }}), 1, 7) || ')'
            when months.report_month < cumulations.cumulation_start
                then 'not applicable: cumulation starts '
                    || substring(cast(cumulations.cumulation_start as {{ dbt.type_string() }}), 1, 7)
            when cumulations.measure_key = 'direct_financing_cumulative'
                and max(direct_financing.direct_financing_cumulative_yuan) is null
                then 'fct_direct_financing_cumulative_monthly: no figure for the month'
        end as missing_inputs
    from months
    cross join cumulations
    cross join parameters
    left join cumulative_inputs
        on cumulative_inputs.measure_key = cumulations.measure_key
        and cumulative_inputs.event_month >= cumulations.cumulation_start
        and cumulative_inputs.event_month <= months.report_month
    left join direct_financing
        on cumulations.measure_key = 'direct_financing_cumulative'
        and direct_financing.report_month = months.report_month
        and direct_financing.cumulation_start = cumulations.cumulation_start
    group by months.report_month, cumulations.measure_key, cumulations.cumulation_start

),

final as (

    select * from stock
    union all
    select * from insurance
    union all
    select * from listings
    union all
    select * from cumulative

)

select * from final
