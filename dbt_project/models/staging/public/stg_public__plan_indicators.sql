with

source as (

    select * from {{ source('public', 'plan_indicators') }}

),

renamed as (

    select
        -- ids
        plan_period,
        seq,

        -- attributes
        table_title,
        indicator_name,
        unit,
        target_qualifier,
        footnote,

        -- figures as printed, in the row's unit
        cast(value_2015 as decimal(18, 4)) as value_2015,
        value_2015_as_of,
        cast(value_2020 as decimal(18, 4)) as value_2020,
        cast(stated_avg_growth_pct as decimal(9, 2)) as stated_avg_growth_pct,
        cast(stated_avg_change_pts as decimal(9, 2)) as stated_avg_change_pts,
        cast(value_2025_target as decimal(18, 4)) as value_2025_target,

        -- provenance in the plan's text
        source_line,
        source_text,

        -- lineage
        _source_file,
        _loaded_at

    from source

)

select * from renamed
