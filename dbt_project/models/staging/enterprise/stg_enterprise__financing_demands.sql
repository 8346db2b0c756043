with

source as (

    select * from {{ source('enterprise', 'financing_demands') }}

),

renamed as (

    select
        -- ids
        demand_id,
        credit_code,

        -- dimensions
        post_month,
        product_type,
        purpose,
        status,

        -- flags
        is_green,

        -- amounts (exact decimals, yuan)
        cast(amount as decimal(18, 2)) as amount_yuan,
        term_months,

        -- timestamps
        posted_at,

        -- lineage
        _source_file,
        _loaded_at

    from source

)

select * from renamed
