with

source as (

    select * from {{ source('enterprise', 'guarantees') }}

),

renamed as (

    select
        -- ids
        guarantee_id,
        guarantor_credit_code,
        debtor_credit_code,
        creditor_bank_code,

        -- dimensions
        guarantee_type,

        -- amounts (exact decimals, yuan)
        cast(amount as decimal(18, 2)) as amount_yuan,

        -- dates
        start_date,
        end_date,

        -- lineage
        _source_file,
        _loaded_at

    from source

)

select * from renamed
