{#- The financing-access programme (首贷户 / 无贷户 拓展): per report month, the registered enterprises that got
    their first loan that month and those on the no-loan list (registered, active, with no loan outstanding at
    any reporting bank at month end). Only those enterprises have rows: a firm with loans and no first loan in
    the month is on neither list (keeps the mart at the size of the lists, not firms × months).
    - First loan: the month of the earliest origination_date among all loans of the firm reported in the whole
      lake (every bank, every month). The loan reports start in 2019-01: a firm whose earliest reported loan was
      originated before the first reported month borrowed before the lake starts and is NOT counted as a first
      loan (so 2019-01 holds only loans originated in 2019-01). A firm that borrowed before 2019 and had repaid
      everything by then cannot be seen; is_bank_reported_first_loan carries the banks' own 首贷 flag for that month.
    - No-loan list: established on or before the month's last day, not deregistered by then, and no reported
      loan with a positive balance at month end.
    - missing_inputs 'bank_loans' when a bank that reports loans before and after the month did not report for
      it: the firm's loan status that month is then incomplete. -#}
{{ config(**incremental_by_period('report_month', inputs=[['stg_bank__loans', 'report_month', 'loaded_at']],
    not_watched=['int_financial_operation__enterprise_originations_monthly', 'stg_enterprise__registries'])) }}

with

loans as (

    select * from {{ ref('stg_bank__loans') }}
    where {{ periods_to_rebuild('report_month') }}

),

-- the whole history (not only the months rebuilt): a first loan is a first across all months; read from the
-- earliest origination of each firm and month (built before this model in the same run), not every loan report
enterprise_first_loans as (

    select
        credit_code,
        {{ dbt.date_trunc('month', 'min(earliest_origination_date)') }} as first_loan_month
    from {{ ref('int_financial_operation__enterprise_originations_monthly') }}
    group by credit_code

),

bank_months as (

    select distinct bank_code, report_month from {{ ref('stg_bank__loans') }}

),

bank_spans as (

    select bank_code, min(report_month) as first_month, max(report_month) as last_month
    from bank_months
    group by bank_code

),

lake_start as (

    select min(report_month) as first_report_month from bank_months

),

months as (

    select report_month, max(loaded_at) as inputs_loaded_at
    from loans
    group by report_month

),

banks_missing as (

    select months.report_month, count(*) as missing_bank_count
    from months
    inner join bank_spans
        on months.report_month between bank_spans.first_month and bank_spans.last_month
    left join bank_months
        on bank_months.bank_code = bank_spans.bank_code and bank_months.report_month = months.report_month
    where bank_months.bank_code is null
    group by months.report_month

),

month_borrowers as (

    select
        report_month,
        borrower_id as credit_code,
        sum(balance_yuan) as balance_yuan,
        max(case when is_first_loan and {{ dbt.date_trunc('month', 'origination_date') }} = report_month
            then 1 else 0 end) as bank_reported_first_loan,
        sum(case when {{ dbt.date_trunc('month', 'origination_date') }} = report_month then balance_yuan else 0 end)
            as originated_balance_yuan
    from loans
    where borrower_type = '企业'
    group by report_month, borrower_id

),

registries as (

    select * from {{ ref('stg_enterprise__registries') }}

),

enterprise_months as (

    select
        months.report_month,
        months.inputs_loaded_at,
        registries.credit_code,
        registries.enterprise_name,
        registries.district_code,
        substr(registries.industry_code, 1, 1) as industry_section,
        registries.size_class,
        coalesce(month_borrowers.balance_yuan, 0) as balance_yuan,
        coalesce(month_borrowers.originated_balance_yuan, 0) as originated_balance_yuan,
        coalesce(month_borrowers.bank_reported_first_loan, 0) = 1 as is_bank_reported_first_loan,
        enterprise_first_loans.first_loan_month = months.report_month
            and enterprise_first_loans.first_loan_month >= lake_start.first_report_month as is_first_loan,
        registries.established_date <= {{ dbt.last_day('months.report_month', 'month') }}
            and (registries.deregistered_date is null
                 or registries.deregistered_date > {{ dbt.last_day('months.report_month', 'month') }})
            as is_active,
        coalesce(banks_missing.missing_bank_count, 0) as missing_bank_count
    from months
    cross join registries
    cross join lake_start
    left join month_borrowers
        on month_borrowers.report_month = months.report_month
        and month_borrowers.credit_code = registries.credit_code
    left join enterprise_first_loans on enterprise_first_loans.credit_code = registries.credit_code
    left join banks_missing on banks_missing.report_month = months.report_month

),

final as (

    select
        report_month,
        credit_code,
        enterprise_name,
        district_code,
        industry_section,
        size_class,
        coalesce(is_first_loan, false) as is_first_loan,
        is_bank_reported_first_loan,
        is_active and balance_yuan = 0 as is_on_no_loan_list,
        cast(case when coalesce(is_first_loan, false) then originated_balance_yuan end as decimal(20, 2))
            as first_loan_balance_yuan,
        case when missing_bank_count > 0 then 'bank_loans' end as missing_inputs,
        inputs_loaded_at
    from enterprise_months
    where coalesce(is_first_loan, false)
        or is_bank_reported_first_loan
        or (is_active and balance_yuan = 0)

)

select * from final
