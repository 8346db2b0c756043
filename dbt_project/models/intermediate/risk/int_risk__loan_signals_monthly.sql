-- Loan signals of each enterprise borrower (企业 / 个体工商户, borrower_id = unified social credit code) per report
-- month, from the banks' loan reports (stg_bank__loans):
--   overdue      a loan with days_overdue > 0 at month end
--   downgrade    a loan (same bank and loan id) classified worse than in the previous month's report, ranks
--                正常 < 关注 < 次级 < 可疑 < 损失 (loan five-category rule effective 2023-07-01,
--                ../shared/reference/domain-methods.md "Loan five-category classification" [S]); a loan new in the
--                month is not a downgrade; when the lake holds no loan report at all for the previous month the
--                downgrade cannot be judged (is_previous_month_reported = false)
--   default      a loan 次级 / 可疑 / 损失 (non-performing) or more than risk_parameters.default_days_overdue days
--                overdue ([S] > 90 days is at least 次级)
-- Kept month by month; a month is rebuilt when its own loan reports or the previous month's are (re)loaded, since
-- the downgrade compares the two.

{%- set loan_months = [['stg_bank__loans', 'report_month', 'loaded_at'],
                       ['stg_bank__loans', 'cast(' ~ dbt.dateadd('month', 1, 'report_month') ~ ' as date)', 'loaded_at']] %}
{{ config(**incremental_by_period('report_month', inputs=loan_months)) }}

with

loans as (

    select
        report_month,
        bank_code,
        loan_id,
        borrower_id as credit_code,
        borrower_type,
        five_category,
        days_overdue,
        balance_yuan,
        loaded_at
    from {{ ref('stg_bank__loans') }}
    where borrower_type in ('企业', '个体工商户')
        and ({{ periods_to_rebuild('report_month') }}
             or {{ periods_to_rebuild('report_month', months_before=1) }})

),

-- every month of the lake with a loan report (any borrower), and its newest delivery
reported_months as (

    select report_month, max(loaded_at) as month_loaded_at
    from {{ ref('stg_bank__loans') }}
    where {{ periods_to_rebuild('report_month') }}
        or {{ periods_to_rebuild('report_month', months_before=1) }}
    group by report_month

),

months as (

    select
        this_month.report_month,
        (previous_month.report_month is not null) as is_previous_month_reported,
        case
            when previous_month.month_loaded_at > this_month.month_loaded_at then previous_month.month_loaded_at
            else this_month.month_loaded_at
        end as inputs_loaded_at
    from reported_months as this_month
    left join reported_months as previous_month
        on previous_month.report_month = cast({{ dbt.dateadd('month', -1, 'this_month.report_month') }} as date)
    where {{ periods_to_rebuild('this_month.report_month') }}

),

compared as (

    select
        this_month.*,
        {{ risk_five_category_rank('this_month.five_category') }} as category_rank,
        {{ risk_five_category_rank('previous_month.five_category') }} as previous_category_rank
    from loans as this_month
    left join loans as previous_month
        on previous_month.bank_code = this_month.bank_code
        and previous_month.loan_id = this_month.loan_id
        and previous_month.report_month = cast({{ dbt.dateadd('month', -1, 'this_month.report_month') }} as date)
    where this_month.report_month in (select report_month from months)

),

per_firm as (

    select
        report_month,
        credit_code,
        max(borrower_type) as borrower_type,
        count(*) as loan_count,
        sum(balance_yuan) as loan_balance_yuan,
        max(days_overdue) as max_days_overdue,
        sum(case when days_overdue > 0 then 1 else 0 end) as overdue_loan_count,
        sum(case when category_rank > previous_category_rank then 1 else 0 end) as downgraded_loan_count,
        sum(case when category_rank >= 3 then 1 else 0 end) as non_performing_loan_count,
        max(category_rank) as worst_category_rank,
        max(case
            when category_rank >= 3 or days_overdue > {{ risk_parameter('default_days_overdue') }} then 1 else 0
        end) as default_flag
    from compared
    group by report_month, credit_code

),

final as (

    select
        per_firm.report_month,
        per_firm.credit_code,
        per_firm.borrower_type,
        cast(per_firm.loan_count as bigint) as loan_count,
        cast(per_firm.loan_balance_yuan as decimal(20, 2)) as loan_balance_yuan,
        cast(per_firm.max_days_overdue as integer) as max_days_overdue,
        cast(per_firm.overdue_loan_count as bigint) as overdue_loan_count,
        cast(per_firm.downgraded_loan_count as bigint) as downgraded_loan_count,
        cast(per_firm.non_performing_loan_count as bigint) as non_performing_loan_count,
        case per_firm.worst_category_rank
            when 1 then '正常' when 2 then '关注' when 3 then '次级' when 4 then '可疑' when 5 then '损失'
        end as worst_five_category,
        (per_firm.default_flag = 1) as is_in_default,
        months.is_previous_month_reported,
        months.inputs_loaded_at
    from per_firm
    inner join months on months.report_month = per_firm.report_month

)

select * from final
