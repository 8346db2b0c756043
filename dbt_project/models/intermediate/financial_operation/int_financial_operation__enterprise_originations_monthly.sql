{#- The earliest origination date among the loans each enterprise borrower has reported in a month: the history
    fct_financing_access_monthly reads for first loans (首贷: the month of a firm's earliest origination in the whole
    lake), one row per firm and month instead of every loan report (at scale 1, 2.5 M rows against 100 M: reading
    them all for a new month took ~2 s, issue 9). Kept month by month, as the loan reports are. -#}
{{ config(**incremental_by_period('report_month', inputs=[['stg_bank__loans', 'report_month', 'loaded_at']])) }}

with

loans as (

    select report_month, borrower_id, origination_date, loaded_at
    from {{ ref('stg_bank__loans') }}
    where borrower_type = '企业'
        and {{ periods_to_rebuild('report_month') }}

),

months as (

    select report_month, max(loaded_at) as inputs_loaded_at
    from loans
    group by report_month

),

final as (

    select
        loans.report_month,
        loans.borrower_id as credit_code,
        min(loans.origination_date) as earliest_origination_date,
        max(months.inputs_loaded_at) as inputs_loaded_at
    from loans
    inner join months on months.report_month = loans.report_month
    group by loans.report_month, loans.borrower_id

)

select * from final
