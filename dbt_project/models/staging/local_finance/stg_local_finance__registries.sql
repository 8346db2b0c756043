with

source as (

    select * from {{ source('local_finance', 'registry') }}

),

renamed as (

    select
        -- ids
        org_code,
        licence_no,

        -- attributes
        org_name,
        org_type,
        district_code,
        cast(registered_capital as decimal(18, 2)) as registered_capital_yuan,
        is_government_guarantor,

        -- licence and status
        licence_date,
        status,
        status_date,

        -- lineage
        _source_file,
        _loaded_at

    from source

)

select * from renamed
