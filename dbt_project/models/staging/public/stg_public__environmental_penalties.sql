with

source as (

    select * from {{ source('public', 'environmental_penalties') }}

),

renamed as (

    select
        -- ids
        decision_number,
        credit_code,

        -- dimensions
        decision_month,
        enterprise_name,
        violation_type,
        legal_basis,
        authority,

        -- amounts (exact decimals, yuan)
        cast(penalty_amount as decimal(18, 2)) as penalty_amount_yuan,

        -- dates
        decision_date,
        disclosure_date,

        -- lineage
        _source_file,
        _loaded_at

    from source

)

select * from renamed
