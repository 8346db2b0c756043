with

source as (

    select * from {{ source('bank', 'insurance_premiums') }}

),

renamed as (

    select
        -- ids
        insurer_code,

        -- dimensions
        report_month,
        insurer_name,
        insurer_type,
        line_of_business,
        product,
        green_category,

        -- flags
        is_green,

        -- amounts (exact decimals, yuan)
        cast(premium_month as decimal(18, 2)) as premium_month_yuan,
        cast(premium_ytd as decimal(18, 2)) as premium_ytd_yuan,

        -- lineage
        _source_file,
        _loaded_at

    from source

)

select * from renamed
