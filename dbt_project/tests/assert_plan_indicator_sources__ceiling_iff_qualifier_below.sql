{#- Seed rule of plan_indicator_sources: a target the plan qualifies with 以下 ("or below") is a ceiling, and only
    such a target is: a row here names the 14th-plan indicator whose target_type disagrees with the qualifier. -#}
select
    seed.plan_period,
    seed.seq,
    seed.indicator_name,
    seed.target_type,
    plan.target_qualifier
from {{ ref('plan_indicator_sources') }} as seed
inner join {{ ref('stg_public__plan_indicators') }} as plan
    on plan.plan_period = seed.plan_period
    and plan.seq = seed.seq
where seed.plan_period = '十四五'
    and (seed.target_type = 'ceiling') <> (coalesce(plan.target_qualifier, '') = '以下')
