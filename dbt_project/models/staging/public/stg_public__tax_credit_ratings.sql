with

source as (

    select * from {{ source('public', 'tax_credit_ratings') }}

),

renamed as (

    select
        -- ids
        credit_code,
        rating_year,

        -- dimensions
        taxpayer_name,
        credit_rating,
        tax_authority,

        -- measures
        cast(score as decimal(5, 1)) as score,

        -- dates
        publish_date,

        -- lineage
        _source_file,
        _loaded_at

    from source

)

select * from renamed
