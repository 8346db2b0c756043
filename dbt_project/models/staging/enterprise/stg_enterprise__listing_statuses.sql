with

source as (

    select * from {{ source('enterprise', 'listing_status') }}

),

renamed as (

    select
        -- ids
        credit_code,
        stock_code,

        -- dimensions
        enterprise_name,
        stage,
        board,

        -- dates
        listing_date,
        reserve_date,

        -- lineage
        _source_file,
        _loaded_at

    from source

)

select * from renamed
