with

source as (

    select * from {{ source('bank', 'loans') }}

),

renamed as (

    select
        -- ids
        bank_code,
        loan_id,
        borrower_id,

        -- dimensions
        report_month,
        bank_name,
        borrower_type,
        industry_code,
        district_code,
        product,
        guarantee_type,
        five_category,
        green_category_code,
        taxonomy_version,

        -- flags
        is_first_loan,
        is_renewal_without_repayment,
        is_green,
        is_crf_eligible,

        -- amounts (exact decimals, yuan)
        cast(balance as decimal(18, 2)) as balance_yuan,
        cast(interest_rate_pct as decimal(9, 4)) as interest_rate_pct,
        cast(project_total_investment as decimal(18, 2)) as project_total_investment_yuan,
        cast(project_annual_co2e_reduction_t as decimal(18, 4)) as project_annual_co2e_reduction_t,
        days_overdue,

        -- dates
        origination_date,
        maturity_date,

        -- lineage
        _source_file as source_file,
        _source_row as source_row,
        _batch_id as batch_id,
        _loaded_at as loaded_at,
        _contract_version as contract_version

    from source

)

select * from renamed
