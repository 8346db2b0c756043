{{ config(**incremental_by_period('report_month', inputs=[['stg_bank__loans', 'report_month', 'loaded_at']],
    not_watched=['stg_public__divisions'])) }}

with

loans as (

    select * from {{ ref('stg_bank__loans') }}
    where {{ periods_to_rebuild('report_month') }}

),

-- district names come from the divisions code list (one data, one source), not from the banks' files
divisions as (

    select division_code, division_name from {{ ref('stg_public__divisions') }}

),

by_month_district_bank as (

    select
        report_month,
        district_code,
        bank_code,
        max(bank_name) as bank_name,
        count(*) as loan_count,
        sum(case when is_green then 1 else 0 end) as green_loan_count,
        cast(sum(balance_yuan) as decimal(20, 2)) as total_loan_balance_yuan,
        cast(coalesce(sum(case when is_green then balance_yuan end), 0) as decimal(20, 2))
            as green_loan_balance_yuan,
        max(loaded_at) as inputs_loaded_at
    from loans
    group by report_month, district_code, bank_code

),

final as (

    select
        totals.report_month,
        totals.district_code,
        divisions.division_name as district_name,
        totals.bank_code,
        totals.bank_name,
        cast(loan_count as bigint) as loan_count,
        cast(green_loan_count as bigint) as green_loan_count,
        total_loan_balance_yuan,
        green_loan_balance_yuan,
        -- exact to 6 places (half up); undefined when nothing is outstanding
        cast({{ exact_ratio('green_loan_balance_yuan', 'total_loan_balance_yuan', 6) }} as decimal(9, 6))
            as green_share,
        max(inputs_loaded_at) over (partition by totals.report_month) as inputs_loaded_at
    from by_month_district_bank as totals
    left join divisions on divisions.division_code = totals.district_code

)

select * from final
