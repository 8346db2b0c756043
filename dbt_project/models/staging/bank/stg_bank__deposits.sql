with

source as (

    select * from {{ source('bank', 'deposits') }}

),

renamed as (

    select
        -- ids
        bank_code,

        -- dimensions
        report_month,
        bank_name,
        deposit_category,

        -- amounts (exact decimals, yuan)
        cast(balance as decimal(18, 2)) as balance_yuan,

        -- lineage
        _source_file,
        _loaded_at

    from source

)

select * from renamed
