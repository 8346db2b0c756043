with

source as (

    select * from {{ source('public', 'green_taxonomy') }}

),

renamed as (

    select
        -- ids
        taxonomy_version,
        category_code,
        parent_code,
        gicg2019_code,

        -- attributes
        catalogue_title,
        category_name,
        category_level,

        -- validity (inclusive; effective_to null while in force)
        effective_from,
        effective_to,

        -- lineage
        _source_file,
        _loaded_at

    from source

)

select * from renamed
