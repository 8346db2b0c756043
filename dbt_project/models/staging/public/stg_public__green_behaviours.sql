with

source as (

    select * from {{ source('public', 'green_behaviours') }}

),

renamed as (

    select
        -- ids
        record_id,
        person_id,

        -- dimensions
        record_month,
        district_code,
        behaviour_type,
        unit,
        source_platform,

        -- measures (exact decimals)
        cast(quantity as decimal(12, 2)) as quantity,
        cast(carbon_reduction_kg as decimal(12, 3)) as carbon_reduction_kg,

        -- dates
        record_date,

        -- lineage
        _source_file,
        _loaded_at

    from source

)

select * from renamed
