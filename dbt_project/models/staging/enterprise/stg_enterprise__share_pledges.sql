with

source as (

    select * from {{ source('enterprise', 'share_pledges') }}

),

renamed as (

    select
        -- ids
        pledge_id,
        credit_code,
        stock_code,

        -- dimensions
        report_month,
        pledgor_name,
        pledgor_type,
        pledgee_name,

        -- amounts (exact decimals)
        shares_pledged,
        cast(pledge_ratio_pct as decimal(9, 4)) as pledge_ratio_pct,

        -- dates
        start_date,
        release_date,

        -- lineage
        _source_file,
        _loaded_at

    from source

)

select * from renamed
