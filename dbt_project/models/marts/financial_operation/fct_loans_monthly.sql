{#- Loans outstanding per report month, district, bank, industry section, borrower type and product, with the
    PBoC special-loan measures (普惠型小微, manufacturing, medium/long-term, credit), NPL, first loans and renewals
    without principal repayment. Kept month by month. Rules and their sources:
    - NPL (不良贷款) = five-category 次级 + 可疑 + 损失 (loan five-category rule effective 2023-07-01,
      ../shared/reference/domain-methods.md "Loan five-category classification" [S]); NPL ratio = NPL ÷ balance.
    - 普惠型小微 (PBoC inclusive small and micro loans): loans to 小型 / 微型 enterprises (registry size class),
      business loans of 个体工商户, and (seed flag) business loans of persons as 小微企业主 loans, of a borrower
      whose 单户授信总额 is at most seed inclusive_small_micro_max_credit_yuan (10 million yuan, [U]). The loan
      reports carry no credit line: the borrower's total balance across all reporting banks at month end stands
      in for it (a lower bound of the line, so a borrower near the ceiling may be counted in).
    - Manufacturing loans (制造业贷款): borrower industry GB/T 4754-2017 section C ([S]).
    - Medium/long-term loans (中长期贷款): original term over seed medium_long_term_min_term_months (12) months
      (PBoC credit statistics, [S]): maturity_date later than origination_date + that many months.
    - Credit loans (信用贷款): guarantee mode 信用 (PBoC loan statistics by guarantee mode).
    - First loans (首贷) and renewals without principal repayment (无还本续贷): the banks' own loan-level flags
      is_first_loan / is_renewal_without_repayment (constant over a loan's reports), counted in the month the
      loan was originated. -#}
{{ config(**incremental_by_period('report_month', inputs=[['stg_bank__loans', 'report_month', 'loaded_at']],
    not_watched=['stg_enterprise__registries', 'stg_public__divisions'])) }}

with

loans as (

    select * from {{ ref('stg_bank__loans') }}
    where {{ periods_to_rebuild('report_month') }}

),

borrower_balances as (

    -- the borrower's balance across all reporting banks at month end, the stand-in for its credit line: an
    -- aggregate joined back, not a window over the loans, which held every loan's columns at once (13 GB and
    -- 17 GB of spill for the history at scale 1)
    select report_month, borrower_id, sum(balance_yuan) as balance_yuan
    from loans
    group by report_month, borrower_id

),

registries as (

    select credit_code, size_class from {{ ref('stg_enterprise__registries') }}

),

divisions as (

    select division_code, division_name from {{ ref('stg_public__divisions') }}

),

parameters as (

    select
        max(case when parameter = 'inclusive_small_micro_max_credit_yuan' then value end) as max_credit_yuan,
        max(case when parameter = 'inclusive_small_micro_counts_business_owner_loans' then value end)
            as counts_owner_loans,
        cast(max(case when parameter = 'medium_long_term_min_term_months' then value end) as integer)
            as mlt_min_term_months
    from {{ ref('financial_operation_parameters') }}

),

classified as (

    select
        loans.report_month,
        loans.district_code,
        loans.bank_code,
        loans.bank_name,
        substr(loans.industry_code, 1, 1) as industry_section,
        loans.borrower_type,
        loans.product,
        loans.balance_yuan,
        loans.loaded_at,
        loans.five_category in ('次级', '可疑', '损失') as is_npl,
        {{ dbt.date_trunc('month', 'loans.origination_date') }} = loans.report_month as is_originated_in_month,
        loans.is_first_loan,
        loans.is_renewal_without_repayment,
        -- a business loan needs the borrower's industry; personal consumption and housing loans have none
        (loans.borrower_type <> '个人' or loans.product = '个人经营贷款') and loans.industry_code is null
            as lacks_industry,
        loans.borrower_type = '企业' and registries.credit_code is null as lacks_registry,
        substr(loans.industry_code, 1, 1) = 'C' as is_manufacturing,
        loans.maturity_date > {{ dbt.dateadd('month', 'parameters.mlt_min_term_months', 'loans.origination_date') }}
            as is_medium_long_term,
        loans.guarantee_type = '信用' as is_credit_loan,
        (
            (loans.borrower_type = '企业' and registries.size_class in ('小型', '微型'))
            or (loans.borrower_type = '个体工商户' and loans.product = '个人经营贷款')
            or (loans.borrower_type = '个人' and loans.product = '个人经营贷款' and parameters.counts_owner_loans = 1)
        )
        and borrower_balances.balance_yuan <= parameters.max_credit_yuan as is_inclusive_small_micro
    from loans
    cross join parameters
    -- every loan has its borrower's row (borrower_id is required by the data contract)
    inner join borrower_balances
        on borrower_balances.report_month = loans.report_month and borrower_balances.borrower_id = loans.borrower_id
    -- an equality on both sides' expressions, so a hash join (a one-sided condition in ON makes DuckDB loop)
    left join registries
        on registries.credit_code = case when loans.borrower_type = '企业' then loans.borrower_id end

),

segments as (

    select
        report_month,
        district_code,
        bank_code,
        max(bank_name) as bank_name,
        industry_section,
        borrower_type,
        product,
        count(*) as loan_count,
        sum(balance_yuan) as balance_yuan,
        sum(case when is_originated_in_month then 1 else 0 end) as originated_count,
        sum(case when is_originated_in_month then balance_yuan else 0 end) as originated_balance_yuan,
        sum(case when is_npl then balance_yuan else 0 end) as npl_balance_yuan,
        sum(case when is_inclusive_small_micro then balance_yuan else 0 end) as inclusive_small_micro_balance_yuan,
        sum(case when is_manufacturing then balance_yuan else 0 end) as manufacturing_balance_yuan,
        sum(case when is_medium_long_term then balance_yuan else 0 end) as medium_long_term_balance_yuan,
        sum(case when is_credit_loan then balance_yuan else 0 end) as credit_loan_balance_yuan,
        sum(case when is_first_loan and is_originated_in_month then 1 else 0 end) as first_loan_count,
        sum(case when is_first_loan and is_originated_in_month then balance_yuan else 0 end)
            as first_loan_balance_yuan,
        sum(case when is_renewal_without_repayment and is_originated_in_month then 1 else 0 end) as renewal_count,
        sum(case when is_renewal_without_repayment and is_originated_in_month then balance_yuan else 0 end)
            as renewal_balance_yuan,
        sum(case when is_renewal_without_repayment then balance_yuan else 0 end) as renewal_outstanding_balance_yuan,
        max(case when lacks_industry then 1 else 0 end) as lacks_industry,
        max(case when lacks_registry then 1 else 0 end) as lacks_registry,
        max(loaded_at) as inputs_loaded_at
    from classified
    group by report_month, district_code, bank_code, industry_section, borrower_type, product

),

final as (

    select
        segments.report_month,
        segments.district_code,
        divisions.division_name as district_name,
        segments.bank_code,
        segments.bank_name,
        segments.industry_section,
        segments.borrower_type,
        segments.product,
        cast(loan_count as bigint) as loan_count,
        cast(balance_yuan as decimal(20, 2)) as balance_yuan,
        cast(originated_count as bigint) as originated_count,
        cast(originated_balance_yuan as decimal(20, 2)) as originated_balance_yuan,
        cast(npl_balance_yuan as decimal(20, 2)) as npl_balance_yuan,
        cast({{ exact_ratio('npl_balance_yuan', 'balance_yuan', 6) }} as decimal(9, 6)) as npl_ratio,
        -- unknown, not 0, when a borrower's size class (registry) is missing
        cast(case when lacks_registry = 0 then inclusive_small_micro_balance_yuan end as decimal(20, 2))
            as inclusive_small_micro_balance_yuan,
        cast(case when lacks_industry = 0 then manufacturing_balance_yuan end as decimal(20, 2))
            as manufacturing_balance_yuan,
        cast(medium_long_term_balance_yuan as decimal(20, 2)) as medium_long_term_balance_yuan,
        cast(credit_loan_balance_yuan as decimal(20, 2)) as credit_loan_balance_yuan,
        cast(first_loan_count as bigint) as first_loan_count,
        cast(first_loan_balance_yuan as decimal(20, 2)) as first_loan_balance_yuan,
        cast(renewal_count as bigint) as renewal_count,
        cast(renewal_balance_yuan as decimal(20, 2)) as renewal_balance_yuan,
        cast(renewal_outstanding_balance_yuan as decimal(20, 2)) as renewal_outstanding_balance_yuan,
        nullif(concat_ws(',',
            case when lacks_registry = 1 then 'enterprise_registry' end,
            case when lacks_industry = 1 then 'loan_industry_code' end), '') as missing_inputs,
        max(inputs_loaded_at) over (partition by segments.report_month) as inputs_loaded_at
    from segments
    left join divisions on divisions.division_code = segments.district_code

)

select * from final
