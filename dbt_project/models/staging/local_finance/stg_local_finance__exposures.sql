with

source as (

    select * from {{ source('local_finance', 'exposures') }}

),

renamed as (

    select
        -- ids
        org_code,
        contract_id,
        report_month,
        client_id,
        group_id,

        -- dimensions
        client_type,
        industry_code,
        district_code,
        exposure_type,

        -- flags
        is_small_micro_agri,
        is_green,

        -- amounts (exact decimals, yuan)
        cast(contract_amount as decimal(18, 2)) as contract_amount_yuan,
        cast(outstanding as decimal(18, 2)) as outstanding_yuan,
        cast(rate_pct as decimal(9, 4)) as rate_pct,
        days_overdue,

        -- dates
        start_date,
        maturity_date,

        -- lineage
        _source_file,
        _loaded_at

    from source

)

select * from renamed
