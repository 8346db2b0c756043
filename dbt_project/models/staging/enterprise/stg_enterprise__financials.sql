with

source as (

    select * from {{ source('enterprise', 'financials') }}

),

renamed as (

    select
        -- ids
        credit_code,

        -- dimensions
        year,

        -- amounts (exact decimals, yuan)
        cast(operating_revenue as decimal(18, 2)) as operating_revenue_yuan,
        cast(value_added as decimal(18, 2)) as value_added_yuan,
        cast(total_assets as decimal(18, 2)) as total_assets_yuan,
        cast(total_liabilities as decimal(18, 2)) as total_liabilities_yuan,
        cast(equity as decimal(18, 2)) as equity_yuan,
        cast(ebitda as decimal(18, 2)) as ebitda_yuan,
        cast(market_cap as decimal(18, 2)) as market_cap_yuan,

        -- counts
        employees,

        -- lineage
        _source_file,
        _loaded_at

    from source

)

select * from renamed
