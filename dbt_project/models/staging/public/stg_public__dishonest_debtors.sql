with

source as (

    select * from {{ source('public', 'dishonest_debtors') }}

),

renamed as (

    select
        -- ids
        case_number,
        debtor_name,
        credit_code,
        id_number,

        -- dimensions
        debtor_type,
        court,
        dishonest_conduct,
        performance_status,

        -- amounts (exact decimals, yuan)
        cast(enforcement_amount as decimal(18, 2)) as enforcement_amount_yuan,

        -- dates
        filing_date,
        publish_date,
        removal_date,

        -- lineage
        _source_file,
        _loaded_at

    from source

)

select * from renamed
