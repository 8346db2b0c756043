-- Month-end loan and deposit aggregates behind the plan's indicators (湖州市绿色金融发展“十四五”规划 2021-2025,
-- indicator tables; mapping in seed plan_indicator_sources), one row per report month with a loan or deposit report.
-- Stock measures: a month depends only on that month's reports, so the model is kept month by month
-- (incremental_by_period: a month is recomputed when a loan or deposit report for it is loaded again).
--   loan balance             Σ balance of all loans (金融机构各项贷款余额)
--   green loan balance       Σ balance of loans reported green (PBoC green-loan statistics)
--   manufacturing            borrower industry GB/T 4754 section C (制造业)
--   small and micro          enterprise borrowers of register size class 小型/微型 + 个体工商户 (PBoC 小微企业贷款 [S];
--                            loans to owners of small firms cannot be identified)
--   medium and long term     maturity date later than 12 months after origination (中长期贷款: term over 1 year)
--   enterprise credit loans  borrower_type 企业 with guarantee type 信用 (企业信用贷款)
--   non-performing           five-category 次级 / 可疑 / 损失
--   deposit balance          Σ balance of all deposit categories (各项存款余额)

{%- set watched = [['stg_bank__loans', 'report_month', 'loaded_at'],
                   ['stg_bank__deposits', 'report_month', '_loaded_at']] %}
{{ config(**incremental_by_period('report_month', inputs=watched, not_watched=['stg_enterprise__registries'])) }}

with

loans as (

    select * from {{ ref('stg_bank__loans') }}
    where {{ periods_to_rebuild('report_month') }}

),

deposits as (

    select * from {{ ref('stg_bank__deposits') }}
    where {{ periods_to_rebuild('report_month') }}

),

registries as (

    select credit_code, size_class from {{ ref('stg_enterprise__registries') }}

),

loan_totals as (

    select
        loans.report_month,
        sum(loans.balance_yuan) as loan_balance_yuan,
        sum(case when loans.is_green then loans.balance_yuan else 0 end) as green_loan_balance_yuan,
        sum(case when loans.industry_code like 'C%' then loans.balance_yuan else 0 end)
            as manufacturing_loan_balance_yuan,
        sum(case
                when loans.borrower_type = '企业' and registries.size_class in ('小型', '微型') then loans.balance_yuan
                when loans.borrower_type = '个体工商户' then loans.balance_yuan
                else 0
            end) as small_micro_loan_balance_yuan,
        sum(case
                when loans.maturity_date > {{ dbt.dateadd('month', 12, 'loans.origination_date') }}
                    then loans.balance_yuan
                else 0
            end) as medium_long_term_loan_balance_yuan,
        sum(case when loans.borrower_type = '企业' and loans.guarantee_type = '信用' then loans.balance_yuan else 0 end)
            as enterprise_credit_loan_balance_yuan,
        sum(case when loans.five_category in ('次级', '可疑', '损失') then loans.balance_yuan else 0 end)
            as npl_balance_yuan,
        max(loans.loaded_at) as loaded_at
    from loans
    -- an equality on both sides' expressions, so a hash join (a one-sided condition in ON makes DuckDB loop)
    left join registries
        on registries.credit_code = case when loans.borrower_type = '企业' then loans.borrower_id end
    group by loans.report_month

),

deposit_totals as (

    select
        report_month,
        sum(balance_yuan) as deposit_balance_yuan,
        max(_loaded_at) as loaded_at
    from deposits
    group by report_month

),

months as (

    select report_month from loan_totals
    union
    select report_month from deposit_totals

),

final as (

    select
        months.report_month,
        (loan_totals.report_month is not null) as has_loan_report,
        (deposit_totals.report_month is not null) as has_deposit_report,
        cast(loan_totals.loan_balance_yuan as decimal(20, 2)) as loan_balance_yuan,
        cast(loan_totals.green_loan_balance_yuan as decimal(20, 2)) as green_loan_balance_yuan,
        cast(loan_totals.manufacturing_loan_balance_yuan as decimal(20, 2)) as manufacturing_loan_balance_yuan,
        cast(loan_totals.small_micro_loan_balance_yuan as decimal(20, 2)) as small_micro_loan_balance_yuan,
        cast(loan_totals.medium_long_term_loan_balance_yuan as decimal(20, 2))
            as medium_long_term_loan_balance_yuan,
        cast(loan_totals.enterprise_credit_loan_balance_yuan as decimal(20, 2))
            as enterprise_credit_loan_balance_yuan,
        cast(loan_totals.npl_balance_yuan as decimal(20, 2)) as npl_balance_yuan,
        cast(deposit_totals.deposit_balance_yuan as decimal(20, 2)) as deposit_balance_yuan,
        case
            when loan_totals.loaded_at is null then deposit_totals.loaded_at
            when deposit_totals.loaded_at is null then loan_totals.loaded_at
            when loan_totals.loaded_at > deposit_totals.loaded_at then loan_totals.loaded_at
            else deposit_totals.loaded_at
        end as inputs_loaded_at
    from months
    left join loan_totals on loan_totals.report_month = months.report_month
    left join deposit_totals on deposit_totals.report_month = months.report_month

)

select * from final
