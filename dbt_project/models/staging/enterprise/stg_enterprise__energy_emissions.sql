with

source as (

    select * from {{ source('enterprise', 'energy_emissions') }}

),

renamed as (

    select
        -- ids
        credit_code,

        -- dimensions
        year,
        verification_status,

        -- flags
        is_key_emitter,

        -- quantities (exact decimals)
        cast(energy_consumption_tce as decimal(18, 4)) as energy_consumption_tce,
        electricity_kwh,
        cast(scope1_tco2e as decimal(18, 4)) as scope1_tco2e,
        cast(scope2_tco2e as decimal(18, 4)) as scope2_tco2e,

        -- lineage
        _source_file,
        _loaded_at

    from source

)

select * from renamed
