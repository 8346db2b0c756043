with

source as (

    select * from {{ source('enterprise', 'registry') }}

),

renamed as (

    select
        -- ids
        credit_code,

        -- dimensions
        enterprise_name,
        industry_code,
        district_code,
        status,
        size_class,

        -- flags
        is_listed,
        is_ipo_reserve,

        -- amounts (exact decimals, yuan)
        cast(registered_capital as decimal(18, 2)) as registered_capital_yuan,

        -- dates
        established_date,
        deregistered_date,

        -- lineage
        _source_file,
        _loaded_at

    from source

)

select * from renamed
