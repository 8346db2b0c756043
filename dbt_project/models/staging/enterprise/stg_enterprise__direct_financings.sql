with

source as (

    select * from {{ source('enterprise', 'direct_financing') }}

),

renamed as (

    select
        -- ids
        event_id,
        credit_code,
        security_code,

        -- dimensions
        financing_month,
        financing_type,
        instrument_name,

        -- flags
        is_green,

        -- amounts (exact decimals, yuan)
        cast(amount as decimal(18, 2)) as amount_yuan,
        term_months,
        cast(coupon_rate_pct as decimal(9, 4)) as coupon_rate_pct,

        -- dates
        event_date,

        -- lineage
        _source_file,
        _loaded_at

    from source

)

select * from renamed
