with

source as (

    select * from {{ source('local_finance', 'returns') }}

),

renamed as (

    select
        -- ids
        org_code,
        report_month,

        -- dimensions
        org_name,
        org_type,

        -- capital and balance sheet (exact decimals, yuan)
        cast(registered_capital as decimal(18, 2)) as registered_capital_yuan,
        cast(paid_in_capital as decimal(18, 2)) as paid_in_capital_yuan,
        cast(total_assets as decimal(18, 2)) as total_assets_yuan,
        cast(total_liabilities as decimal(18, 2)) as total_liabilities_yuan,
        cast(net_assets as decimal(18, 2)) as net_assets_yuan,
        cast(prior_year_end_net_assets as decimal(18, 2)) as prior_year_end_net_assets_yuan,

        -- business outstanding and its breakdowns
        cast(business_balance as decimal(18, 2)) as business_balance_yuan,
        cast(small_micro_agri_balance as decimal(18, 2)) as small_micro_agri_balance_yuan,
        cast(green_balance as decimal(18, 2)) as green_balance_yuan,
        cast(movable_pawn_balance as decimal(18, 2)) as movable_pawn_balance_yuan,
        cast(property_rights_pawn_balance as decimal(18, 2)) as property_rights_pawn_balance_yuan,
        cast(real_estate_pawn_balance as decimal(18, 2)) as real_estate_pawn_balance_yuan,
        client_count,
        cast(largest_client_balance as decimal(18, 2)) as largest_client_balance_yuan,
        cast(largest_group_balance as decimal(18, 2)) as largest_group_balance_yuan,

        -- credit quality
        cast(overdue_balance as decimal(18, 2)) as overdue_balance_yuan,
        cast(overdue_90d_balance as decimal(18, 2)) as overdue_90d_balance_yuan,
        cast(compensation_ytd as decimal(18, 2)) as compensation_ytd_yuan,

        -- funding
        cast(bank_borrowing as decimal(18, 2)) as bank_borrowing_yuan,
        cast(other_nonstandard_borrowing as decimal(18, 2)) as other_nonstandard_borrowing_yuan,
        cast(bond_abs_financing as decimal(18, 2)) as bond_abs_financing_yuan,

        -- flow and price
        cast(new_business as decimal(18, 2)) as new_business_yuan,
        cast(weighted_avg_rate_pct as decimal(9, 4)) as weighted_avg_rate_pct,

        -- lineage
        _source_file,
        _loaded_at

    from source

)

select * from renamed
