with

source as (

    select * from {{ source('public', 'divisions') }}

),

renamed as (

    select
        -- ids
        division_code,
        parent_code,

        -- attributes
        division_name,
        division_level,

        -- lineage
        _source_file,
        _loaded_at

    from source

)

select * from renamed
