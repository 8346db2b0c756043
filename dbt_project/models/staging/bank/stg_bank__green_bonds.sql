with

source as (

    select * from {{ source('bank', 'green_bonds') }}

),

renamed as (

    select
        -- ids
        bond_code,
        issuer_uscc,
        lead_underwriter_code,

        -- dimensions
        issue_month,
        bond_short_name,
        bond_type,
        issuer_name,
        issuer_type,
        lead_underwriter_name,
        green_category_code,
        green_category_name,
        taxonomy_version,
        use_of_proceeds,

        -- amounts (exact decimals)
        cast(amount as decimal(18, 2)) as amount_yuan,
        cast(coupon_rate_pct as decimal(9, 4)) as coupon_rate_pct,

        -- dates
        issue_date,
        maturity_date,

        -- lineage
        _source_file,
        _loaded_at

    from source

)

select * from renamed
