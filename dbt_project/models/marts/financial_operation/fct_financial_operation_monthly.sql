{#- The "one screen" of the city's financial operation (金融运行): per report month, loans and deposits with their
    month-on-month and year-on-year growth, the NPL ratio and the special-loan balances, broken down one
    dimension at a time (breakdown = city, district, bank, industry_section, borrower_type, product,
    deposit_category). Loans come from the kept mart fct_loans_monthly, deposits from the bank deposit reports.
    A table, rebuilt in full each run: every month's growth reads the month before and the month a year before
    (a small aggregate: months × a few dozen breakdown values).
    Growth = balance ÷ balance of the earlier month − 1 (PBoC 余额同比/环比增速). When the earlier month has no
    report at all the growth is null and missing_inputs names it; when it was reported but the breakdown value
    had no balance then, the earlier balance is 0 and the growth is null (undefined), without a missing input.
    Deposits have no depositor district: a bank's deposits count in the district of its registered office
    (stg_bank__institutions), so district deposits are by booking branch, and the loan-to-deposit ratio is given
    for the city and per bank only. -#}
{{ config(materialized='table') }}

with

loans as (

    select * from {{ ref('fct_loans_monthly') }}

),

deposits as (

    select
        deposits.report_month,
        deposits.bank_code,
        deposits.bank_name,
        deposits.deposit_category,
        deposits.balance_yuan,
        institutions.district_code
    from {{ ref('stg_bank__deposits') }} as deposits
    left join {{ ref('stg_bank__institutions') }} as institutions
        on institutions.institution_code = deposits.bank_code

),

divisions as (

    select division_code, division_name from {{ ref('stg_public__divisions') }}

),

{%- set loan_breakdowns = [
    ('city', "'330500'"), ('district', 'district_code'), ('bank', 'bank_code'),
    ('industry_section', "coalesce(industry_section, '-')"), ('borrower_type', 'borrower_type'),
    ('product', 'product')] %}

loan_totals as (

    {%- for breakdown, code in loan_breakdowns %}
    {% if not loop.first %}union all{% endif %}
    select
        report_month,
        '{{ breakdown }}' as breakdown,
        {{ code }} as breakdown_code,
        {{ "max(bank_name)" if breakdown == 'bank' else "cast(null as " ~ dbt.type_string() ~ ")" }} as bank_name,
        sum(balance_yuan) as loan_balance_yuan,
        sum(npl_balance_yuan) as npl_balance_yuan,
        -- null when one of the summed rows is null (an input was missing), never a partial sum
        case when count(inclusive_small_micro_balance_yuan) = count(*)
            then sum(inclusive_small_micro_balance_yuan) end as inclusive_small_micro_balance_yuan,
        case when count(manufacturing_balance_yuan) = count(*)
            then sum(manufacturing_balance_yuan) end as manufacturing_balance_yuan,
        sum(medium_long_term_balance_yuan) as medium_long_term_balance_yuan,
        sum(credit_loan_balance_yuan) as credit_loan_balance_yuan,
        sum(first_loan_count) as first_loan_count,
        sum(renewal_count) as renewal_count,
        sum(renewal_balance_yuan) as renewal_balance_yuan,
        max(inputs_loaded_at) as loans_loaded_at
    from loans
    group by report_month, {{ code }}
    {%- endfor %}

),

{%- set deposit_breakdowns = [
    ('city', "'330500'"), ('district', 'district_code'), ('bank', 'bank_code'),
    ('deposit_category', 'deposit_category')] %}

deposit_totals as (

    {%- for breakdown, code in deposit_breakdowns %}
    {% if not loop.first %}union all{% endif %}
    select
        report_month,
        '{{ breakdown }}' as breakdown,
        {{ code }} as breakdown_code,
        {{ "max(bank_name)" if breakdown == 'bank' else "cast(null as " ~ dbt.type_string() ~ ")" }} as bank_name,
        sum(balance_yuan) as deposit_balance_yuan,
        max(case when district_code is null then 1 else 0 end) as lacks_institution
    from deposits
    group by report_month, {{ code }}
    {%- endfor %}

),

loan_months as (

    select distinct report_month from loans

),

deposit_months as (

    select distinct report_month from deposits

),

combined as (

    select
        coalesce(l.report_month, d.report_month) as report_month,
        coalesce(l.breakdown, d.breakdown) as breakdown,
        coalesce(l.breakdown_code, d.breakdown_code) as breakdown_code,
        coalesce(l.bank_name, d.bank_name) as bank_name,
        l.loan_balance_yuan,
        l.npl_balance_yuan,
        l.inclusive_small_micro_balance_yuan,
        l.manufacturing_balance_yuan,
        l.medium_long_term_balance_yuan,
        l.credit_loan_balance_yuan,
        l.first_loan_count,
        l.renewal_count,
        l.renewal_balance_yuan,
        l.loans_loaded_at,
        d.deposit_balance_yuan,
        coalesce(d.lacks_institution, 0) as lacks_institution
    from loan_totals as l
    full outer join deposit_totals as d
        on d.report_month = l.report_month
        and d.breakdown = l.breakdown
        and d.breakdown_code = l.breakdown_code

),

with_earlier as (

    select
        cur.*,
        prev_loan_month.report_month is not null as has_loans_prev_month,
        year_loan_month.report_month is not null as has_loans_year_ago,
        prev_deposit_month.report_month is not null as has_deposits_prev_month,
        year_deposit_month.report_month is not null as has_deposits_year_ago,
        case when prev_loan_month.report_month is not null then coalesce(prev.loan_balance_yuan, 0) end
            as loan_balance_prev_month_yuan,
        case when year_loan_month.report_month is not null then coalesce(year_ago.loan_balance_yuan, 0) end
            as loan_balance_year_ago_yuan,
        case when prev_deposit_month.report_month is not null then coalesce(prev.deposit_balance_yuan, 0) end
            as deposit_balance_prev_month_yuan,
        case when year_deposit_month.report_month is not null then coalesce(year_ago.deposit_balance_yuan, 0) end
            as deposit_balance_year_ago_yuan
    from combined as cur
    left join combined as prev
        on prev.report_month = cast({{ dbt.dateadd('month', -1, 'cur.report_month') }} as date)
        and prev.breakdown = cur.breakdown and prev.breakdown_code = cur.breakdown_code
    left join combined as year_ago
        on year_ago.report_month = cast({{ dbt.dateadd('month', -12, 'cur.report_month') }} as date)
        and year_ago.breakdown = cur.breakdown and year_ago.breakdown_code = cur.breakdown_code
    left join loan_months as prev_loan_month
        on prev_loan_month.report_month = cast({{ dbt.dateadd('month', -1, 'cur.report_month') }} as date)
    left join loan_months as year_loan_month
        on year_loan_month.report_month = cast({{ dbt.dateadd('month', -12, 'cur.report_month') }} as date)
    left join deposit_months as prev_deposit_month
        on prev_deposit_month.report_month = cast({{ dbt.dateadd('month', -1, 'cur.report_month') }} as date)
    left join deposit_months as year_deposit_month
        on year_deposit_month.report_month = cast({{ dbt.dateadd('month', -12, 'cur.report_month') }} as date)

),

final as (

    select
        report_month,
        breakdown,
        breakdown_code,
        case
            when breakdown in ('city', 'district') then divisions.division_name
            when breakdown = 'bank' then bank_name
        end as breakdown_name,
        cast(loan_balance_yuan as decimal(20, 2)) as loan_balance_yuan,
        cast(loan_balance_prev_month_yuan as decimal(20, 2)) as loan_balance_prev_month_yuan,
        cast(loan_balance_year_ago_yuan as decimal(20, 2)) as loan_balance_year_ago_yuan,
        cast({{ exact_ratio('loan_balance_yuan', 'loan_balance_prev_month_yuan', 6) }} - 1 as decimal(12, 6))
            as loan_growth_mom,
        cast({{ exact_ratio('loan_balance_yuan', 'loan_balance_year_ago_yuan', 6) }} - 1 as decimal(12, 6))
            as loan_growth_yoy,
        cast(npl_balance_yuan as decimal(20, 2)) as npl_balance_yuan,
        cast({{ exact_ratio('npl_balance_yuan', 'loan_balance_yuan', 6) }} as decimal(9, 6)) as npl_ratio,
        cast(inclusive_small_micro_balance_yuan as decimal(20, 2)) as inclusive_small_micro_balance_yuan,
        cast(manufacturing_balance_yuan as decimal(20, 2)) as manufacturing_balance_yuan,
        cast(medium_long_term_balance_yuan as decimal(20, 2)) as medium_long_term_balance_yuan,
        cast(credit_loan_balance_yuan as decimal(20, 2)) as credit_loan_balance_yuan,
        cast(first_loan_count as bigint) as first_loan_count,
        cast(renewal_count as bigint) as renewal_count,
        cast(renewal_balance_yuan as decimal(20, 2)) as renewal_balance_yuan,
        cast(deposit_balance_yuan as decimal(20, 2)) as deposit_balance_yuan,
        cast(deposit_balance_prev_month_yuan as decimal(20, 2)) as deposit_balance_prev_month_yuan,
        cast(deposit_balance_year_ago_yuan as decimal(20, 2)) as deposit_balance_year_ago_yuan,
        cast({{ exact_ratio('deposit_balance_yuan', 'deposit_balance_prev_month_yuan', 6) }} - 1 as decimal(12, 6))
            as deposit_growth_mom,
        cast({{ exact_ratio('deposit_balance_yuan', 'deposit_balance_year_ago_yuan', 6) }} - 1 as decimal(12, 6))
            as deposit_growth_yoy,
        cast(case when breakdown in ('city', 'bank')
            then {{ exact_ratio('loan_balance_yuan', 'deposit_balance_yuan', 6) }} end as decimal(12, 6))
            as loan_to_deposit_ratio,
        nullif(concat_ws(',',
            case when loan_balance_yuan is not null and not has_loans_prev_month then 'loans_previous_month' end,
            case when loan_balance_yuan is not null and not has_loans_year_ago then 'loans_year_ago' end,
            case when loan_balance_yuan is not null and inclusive_small_micro_balance_yuan is null
                then 'enterprise_registry' end,
            case when loan_balance_yuan is not null and manufacturing_balance_yuan is null
                then 'loan_industry_code' end,
            case when deposit_balance_yuan is not null and not has_deposits_prev_month
                then 'deposits_previous_month' end,
            case when deposit_balance_yuan is not null and not has_deposits_year_ago then 'deposits_year_ago' end,
            case when lacks_institution = 1 then 'bank_institution' end,
            case when breakdown in ('city', 'bank') and loan_balance_yuan is null then 'bank_loans' end,
            case when breakdown in ('city', 'bank', 'district') and deposit_balance_yuan is null
                then 'bank_deposits' end), '') as missing_inputs
    from with_earlier
    left join divisions
        on breakdown in ('city', 'district') and divisions.division_code = with_earlier.breakdown_code

)

select * from final
