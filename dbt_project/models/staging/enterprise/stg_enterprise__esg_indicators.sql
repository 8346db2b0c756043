with

source as (

    select * from {{ source('enterprise', 'esg_indicators') }}

),

renamed as (

    select
        -- ids
        credit_code,
        indicator_code,

        -- dimensions
        year,
        dimension,
        indicator_name,
        unit,

        -- values (exact decimals)
        cast(value as decimal(18, 4)) as value,

        -- lineage
        _source_file,
        _loaded_at

    from source

)

select * from renamed
