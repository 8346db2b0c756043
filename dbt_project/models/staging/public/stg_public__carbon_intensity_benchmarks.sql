with

source as (

    select * from {{ source('public', 'carbon_intensity_benchmarks') }}

),

renamed as (

    select
        -- ids
        benchmark_year,
        industry_code,

        -- attributes
        industry_name,

        -- measures (t CO2 from energy use per 10,000 yuan of value added)
        cast(intensity_t_per_10k_yuan as decimal(9, 4)) as intensity_t_co2_per_10k_yuan,

        -- lineage
        _source_file,
        _loaded_at

    from source

)

select * from renamed
