-- Green-loan statistics per report month, bank, district, borrower industry section and first-level green
-- category, with the non-green loans in the same mart (category 'not_green') so that totals of all loans are here.
-- Method: PBoC green-loan statistics (../shared/reference/domain-methods.md "PBoC green-loan statistics" [C]): green
-- loans by use (the six first-level industries of the Green Industry Guidance Catalogue 2019, resolved against the
-- taxonomy in force at the report date in int_green_credit__green_loans_classified) and by borrower industry.
--   industry section   GB/T 4754 section letter = first character of the loan's industry_code; loans to
--                      individuals carry none ('individual'); any other loan without a code is 'unknown'
--   non-performing     five-category classification 次级 / 可疑 / 损失 (substandard, doubtful, loss)
--   flow               balance of the loans originated in the report month (origination date in the month)
--   shares             share_of_bank_district_balance = row balance ÷ balance of all loans of the month, bank and
--                      district: summed over the green rows it is the green share of that bank and district;
--                      npl_ratio = row NPL balance ÷ row balance: on a green row, the green NPL ratio of the cell
-- Names: bank from stg_bank__institutions (authoritative, not the loan file's bank_name), district from
-- stg_public__divisions, industry section from stg_public__industry_codes.

{{ config(**incremental_by_period('report_month', inputs=[['stg_bank__loans', 'report_month', 'loaded_at']],
    not_watched=['int_green_credit__green_loans_classified', 'stg_bank__institutions', 'stg_public__divisions',
                 'stg_public__industry_codes'])) }}

with

loans as (

    select * from {{ ref('stg_bank__loans') }}
    where {{ periods_to_rebuild('report_month') }}

),

green_loans as (

    select * from {{ ref('int_green_credit__green_loans_classified') }}
    where {{ periods_to_rebuild('report_month') }}

),

institutions as (

    select institution_code, institution_name from {{ ref('stg_bank__institutions') }}

),

divisions as (

    select division_code, division_name from {{ ref('stg_public__divisions') }}

),

sections as (

    select section_code, industry_name as section_name
    from {{ ref('stg_public__industry_codes') }}
    where division_code is null and section_code is not null

),

classified as (

    select
        loans.report_month,
        loans.bank_code,
        loans.district_code,
        case
            when loans.industry_code is not null then substring(loans.industry_code, 1, 1)
            when loans.borrower_type = '个人' then 'individual'
            else 'unknown'
        end as industry_section_code,
        loans.is_green,
        case
            when not loans.is_green then 'not_green'
            else coalesce(green_loans.green_first_level_code, 'unmapped')
        end as green_category_code,
        green_loans.green_first_level_name,
        loans.balance_yuan,
        (loans.five_category in ('次级', '可疑', '损失')) as is_non_performing,
        ({{ dbt.date_trunc('month', 'loans.origination_date') }} = loans.report_month) as is_originated_in_month,
        loans.loaded_at
    from loans
    left join green_loans
        on green_loans.bank_code = loans.bank_code
        and green_loans.loan_id = loans.loan_id
        and green_loans.report_month = loans.report_month

),

grouped as (

    select
        report_month,
        bank_code,
        district_code,
        industry_section_code,
        green_category_code,
        is_green,
        max(green_first_level_name) as green_category_name,
        count(*) as loan_count,
        sum(balance_yuan) as balance_yuan,
        sum(case when is_non_performing then 1 else 0 end) as npl_loan_count,
        coalesce(sum(case when is_non_performing then balance_yuan end), 0) as npl_balance_yuan,
        sum(case when is_originated_in_month then 1 else 0 end) as originated_loan_count,
        coalesce(sum(case when is_originated_in_month then balance_yuan end), 0) as flow_yuan,
        max(loaded_at) as inputs_loaded_at
    from classified
    group by report_month, bank_code, district_code, industry_section_code, green_category_code, is_green

),

with_totals as (

    select
        grouped.*,
        sum(balance_yuan) over (partition by report_month, bank_code, district_code) as bank_district_balance_yuan
    from grouped

),

final as (

    select
        with_totals.report_month,
        with_totals.bank_code,
        institutions.institution_name as bank_name,
        with_totals.district_code,
        divisions.division_name as district_name,
        with_totals.industry_section_code,
        case with_totals.industry_section_code
            when 'individual' then '个人'
            when 'unknown' then '未知'
            else sections.section_name
        end as industry_section_name,
        with_totals.is_green,
        with_totals.green_category_code,
        case with_totals.green_category_code
            when 'not_green' then '非绿色贷款'
            when 'unmapped' then '未映射'
            else with_totals.green_category_name
        end as green_category_name,
        cast(with_totals.loan_count as bigint) as loan_count,
        cast(with_totals.balance_yuan as decimal(20, 2)) as balance_yuan,
        cast(with_totals.npl_loan_count as bigint) as npl_loan_count,
        cast(with_totals.npl_balance_yuan as decimal(20, 2)) as npl_balance_yuan,
        cast(with_totals.originated_loan_count as bigint) as originated_loan_count,
        cast(with_totals.flow_yuan as decimal(20, 2)) as flow_yuan,
        cast({{ exact_ratio('with_totals.npl_balance_yuan', 'with_totals.balance_yuan', 6) }} as decimal(9, 6))
            as npl_ratio,
        cast({{ exact_ratio('with_totals.balance_yuan', 'with_totals.bank_district_balance_yuan', 6) }}
             as decimal(9, 6)) as share_of_bank_district_balance,
        max(with_totals.inputs_loaded_at) over (partition by with_totals.report_month) as inputs_loaded_at
    from with_totals
    left join institutions on institutions.institution_code = with_totals.bank_code
    left join divisions on divisions.division_code = with_totals.district_code
    left join sections on sections.section_code = with_totals.industry_section_code

)

select * from final
