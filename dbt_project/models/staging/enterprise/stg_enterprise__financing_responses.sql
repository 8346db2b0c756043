with

source as (

    select * from {{ source('enterprise', 'financing_responses') }}

),

renamed as (

    select
        -- ids
        demand_id,
        institution_code,

        -- dimensions
        response_month,
        institution_name,
        decision,

        -- amounts (exact decimals, yuan)
        cast(approved_amount as decimal(18, 2)) as approved_amount_yuan,

        -- timestamps
        claimed_at,
        contacted_at,
        decided_at,

        -- lineage
        _source_file,
        _loaded_at

    from source

)

select * from renamed
