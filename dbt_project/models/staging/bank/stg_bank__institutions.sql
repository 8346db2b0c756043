with

source as (

    select * from {{ source('bank', 'institutions') }}

),

renamed as (

    select
        -- ids
        institution_code,
        uscc,

        -- attributes
        institution_name,
        institution_type,
        institution_subtype,
        legal_form,
        parent_name,
        district_code,
        status,

        -- flags
        is_green_specialised,

        -- amounts (exact decimals, yuan)
        cast(capital as decimal(18, 2)) as capital_yuan,

        -- dates
        as_of_date,
        licence_date,
        green_since,
        end_date,

        -- lineage
        _source_file,
        _loaded_at

    from source

)

select * from renamed
