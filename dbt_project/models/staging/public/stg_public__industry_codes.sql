with

source as (

    select * from {{ source('public', 'industry_codes') }}

),

renamed as (

    select
        -- ids
        code as industry_code,
        -- a class as the other sources write it: section letter + 4 digits (C3011); null above class level
        case when class_code is not null then concat(section_code, class_code) end as industry_class_code,

        -- hierarchy
        section_code,
        division_code,
        group_code,
        class_code,

        -- attributes
        name as industry_name,
        level as industry_level,

        -- lineage
        _source_file,
        _loaded_at

    from source

)

select * from renamed
