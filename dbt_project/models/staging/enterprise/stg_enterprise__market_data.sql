with

source as (

    select * from {{ source('enterprise', 'market_data') }}

),

renamed as (

    select
        -- ids
        credit_code,
        stock_code,

        -- dimensions
        trade_month,
        currency,

        -- amounts (exact decimals)
        cast(close_price as decimal(18, 2)) as close_price,
        cast(exchange_rate as decimal(12, 6)) as exchange_rate,
        shares_outstanding,
        cast(market_cap as decimal(18, 2)) as market_cap_yuan,

        -- dates
        trade_date,

        -- lineage
        _source_file,
        _loaded_at

    from source

)

select * from renamed
