with

source as (

    select * from {{ source('public', 'grid_emission_factors') }}

),

renamed as (

    select
        -- ids
        factor_year,
        region,

        -- measures
        cast(factor_t_per_mwh as decimal(9, 4)) as factor_t_co2_per_mwh,

        -- provenance: the source text opens with [C], [S] or [U]
        substr(source, 2, 1) as confidence,
        source as source_document,

        -- lineage
        _source_file,
        _loaded_at

    from source

)

select * from renamed
