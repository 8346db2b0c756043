{#- Seed rule of plan_indicator_sources: every indicator of the plan's two tables (stg_public__plan_indicators) has
    exactly one row in the seed, and every seed row is a plan indicator. A row here names the indicator and what is
    wrong: not mapped, mapped more than once, or mapped but not in the plan. -#}
with plan as (
    select plan_period, seq from {{ ref('stg_public__plan_indicators') }}
),

mapped as (
    select plan_period, seq, count(*) as seed_rows
    from {{ ref('plan_indicator_sources') }}
    group by plan_period, seq
)

select
    coalesce(plan.plan_period, mapped.plan_period) as plan_period,
    coalesce(plan.seq, mapped.seq) as seq,
    case
        when mapped.seq is null then 'plan indicator not mapped'
        when plan.seq is null then 'seed row is not a plan indicator'
        else 'plan indicator mapped more than once'
    end as problem
from plan
full outer join mapped
    on mapped.plan_period = plan.plan_period
    and mapped.seq = plan.seq
where plan.seq is null or mapped.seq is null or mapped.seed_rows <> 1
