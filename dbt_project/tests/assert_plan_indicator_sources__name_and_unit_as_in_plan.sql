{#- Seed rule of plan_indicator_sources: a row's indicator_name and plan_unit are the plan's own (as delivered in
    stg_public__plan_indicators), so that a row cannot be mapped to the wrong indicator or unit by a shifted seq.
    A row here names the seed row and the plan's name and unit. -#}
select
    seed.plan_period,
    seed.seq,
    seed.indicator_name as seed_indicator_name,
    plan.indicator_name as plan_indicator_name,
    seed.plan_unit as seed_unit,
    plan.unit as plan_unit
from {{ ref('plan_indicator_sources') }} as seed
inner join {{ ref('stg_public__plan_indicators') }} as plan
    on plan.plan_period = seed.plan_period
    and plan.seq = seed.seq
where seed.indicator_name <> plan.indicator_name or seed.plan_unit <> plan.unit
