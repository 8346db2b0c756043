-- Green behaviours of each pseudonymised person per month and behaviour type (stg_public__green_behaviours):
-- records, quantity in the behaviour's unit and the CO2e reduction the platform credited (carbon_reduction_kg,
-- the authoritative figure: glossary concept personal_carbon_reduction). A pure aggregation, no parameters, so it
-- is kept month by month: a month is recomputed in place when its records are (re)loaded.
{{ config(**incremental_by_period('record_month',
    inputs=[['stg_public__green_behaviours', 'record_month', '_loaded_at']])) }}

with

behaviours as (

    select * from {{ ref('stg_public__green_behaviours') }}
    where {{ periods_to_rebuild('record_month') }}

),

by_person_month_type as (

    select
        record_month,
        person_id,
        behaviour_type,
        unit,
        cast(count(*) as bigint) as record_count,
        cast(sum(quantity) as decimal(18, 2)) as quantity,
        cast(sum(carbon_reduction_kg) as decimal(18, 3)) as co2e_source_kg,
        max(_loaded_at) as inputs_loaded_at
    from behaviours
    group by record_month, person_id, behaviour_type, unit

)

select * from by_person_month_type
