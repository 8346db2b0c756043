-- Personal carbon account (个人碳账户) per pseudonymised person and month, the plan's 个人绿色金融服务应用 (湖州市绿色
-- 金融发展"十四五"规划: 围绕垃圾分类、绿色出行、绿色消费等重点领域) after Quzhou's personal carbon account (衢州个人碳账户,
-- secondary). Parameters in seeds, all [U] but the rounding tolerance [S]:
--   CO2e reduced      the platform's carbon_reduction_kg, authoritative (one data, one source), by behaviour type.
--   recomputed        quantity x carbon_account_factors.kg_co2e_per_unit for the types that have a single factor
--                     (not 绿色消费); co2e_disagrees when |recomputed - platform| > records x
--                     carbon_account_parameters.recompute_tolerance_kg_per_record (the platforms round to the gram).
--   points earned     sum over behaviour types of floor(platform kg x points_per_kg_co2e).
--   balance           points earned in the last points_validity_months months (the month itself included), i.e.
--                     cumulative points - cumulative points up to validity months earlier; all points when empty.
--   tier, benefits    the carbon_account_tiers row with min_points_balance <= balance < the next tier's minimum.
-- A table, rebuilt whole: a month's balance depends on every earlier month of the person (all history when
-- points never expire), so reloading month M changes every later month; recomputing everything is the simplest
-- correct way. Rows: every month from the person's first record to the newest month in the data (dense, so the
-- balance and tier of an inactive month, and expiry, are visible): at most 250,000 x 84 (about 21 million) rows
-- at scale 1, read from the monthly aggregate, not the records.

with

behaviours as (

    select * from {{ ref('int_carbon_account__behaviours_monthly') }}

),

factors as (

    select * from {{ ref('carbon_account_factors') }}

),

tiers as (

    select
        tier_seq,
        tier_code,
        tier_name_zh,
        min_points_balance,
        loan_rate_discount_bp,
        card_benefit,
        lead(min_points_balance) over (order by tier_seq) as next_min_points_balance
    from {{ ref('carbon_account_tiers') }}

),

parameters as (

    select
        cast(max(case when parameter = 'points_validity_months' then value end) as integer)
            as points_validity_months,
        max(case when parameter = 'recompute_tolerance_kg_per_record' then value end)
            as tolerance_kg_per_record
    from {{ ref('carbon_account_parameters') }}

),

-- conversion per person, month and behaviour type
converted as (

    select
        behaviours.record_month,
        behaviours.person_id,
        behaviours.behaviour_type,
        behaviours.record_count,
        behaviours.co2e_source_kg,
        behaviours.inputs_loaded_at,
        factors.kg_co2e_per_unit,
        -- not rounded: the platforms round each record to the gram, the tolerance allows for it
        cast(behaviours.quantity * factors.kg_co2e_per_unit as decimal(18, 6)) as co2e_recomputed_kg,
        cast(floor(behaviours.co2e_source_kg * factors.points_per_kg_co2e) as bigint) as points,
        case
            when factors.points_per_kg_co2e is null
                then {{ dbt.concat(["'carbon_account_factors('", 'behaviours.behaviour_type', "')'"]) }}
        end as missing_factor
    from behaviours
    left join factors
        on factors.behaviour_type = behaviours.behaviour_type
        and factors.unit = behaviours.unit

),

monthly as (

    select
        record_month as account_month,
        person_id,
        cast(sum(case when behaviour_type = '公交出行' then co2e_source_kg else 0 end) as decimal(18, 3))
            as bus_co2e_kg,
        cast(sum(case when behaviour_type = '骑行' then co2e_source_kg else 0 end) as decimal(18, 3))
            as cycling_co2e_kg,
        cast(sum(case when behaviour_type = '步行' then co2e_source_kg else 0 end) as decimal(18, 3))
            as walking_co2e_kg,
        cast(sum(case when behaviour_type = '垃圾分类' then co2e_source_kg else 0 end) as decimal(18, 3))
            as waste_sorting_co2e_kg,
        cast(sum(case when behaviour_type = '绿色消费' then co2e_source_kg else 0 end) as decimal(18, 3))
            as green_consumption_co2e_kg,
        cast(sum(co2e_source_kg) as decimal(18, 3)) as co2e_reduced_kg,
        cast(sum(case when kg_co2e_per_unit is not null then co2e_source_kg else 0 end) as decimal(18, 3))
            as co2e_checked_source_kg,
        cast(coalesce(sum(co2e_recomputed_kg), 0) as decimal(18, 6)) as co2e_recomputed_kg,
        cast(sum(case when kg_co2e_per_unit is not null then record_count else 0 end) as bigint) as records_checked,
        cast(sum(record_count) as bigint) as record_count,
        -- never a silent 0: unknown when a behaviour type of the month has no points rate
        case when count(missing_factor) = 0 then cast(sum(points) as bigint) end as points_earned,
        {{ dbt.listagg('missing_factor', "', '", 'order by missing_factor') }} as missing_factors,
        max(inputs_loaded_at) as inputs_loaded_at
    from converted
    group by record_month, person_id

),

bounds as (

    select min(account_month) as first_month, max(account_month) as last_month from monthly

),

month_numbers as (

    {{ dbt.generate_series(1200) }}

),

months as (

    select cast({{ dbt.dateadd('month', 'month_numbers.generated_number - 1', 'bounds.first_month') }} as date)
        as account_month
    from month_numbers
    cross join bounds
    where month_numbers.generated_number - 1
        <= {{ dbt.datediff('bounds.first_month', 'bounds.last_month', 'month') }}

),

persons as (

    select person_id, min(account_month) as first_month from monthly group by person_id

),

-- every month from the person's first record on; a month without records earns nothing (a true 0)
accounts as (

    select
        months.account_month,
        persons.person_id,
        coalesce(monthly.bus_co2e_kg, 0) as bus_co2e_kg,
        coalesce(monthly.cycling_co2e_kg, 0) as cycling_co2e_kg,
        coalesce(monthly.walking_co2e_kg, 0) as walking_co2e_kg,
        coalesce(monthly.waste_sorting_co2e_kg, 0) as waste_sorting_co2e_kg,
        coalesce(monthly.green_consumption_co2e_kg, 0) as green_consumption_co2e_kg,
        coalesce(monthly.co2e_reduced_kg, 0) as co2e_reduced_kg,
        coalesce(monthly.co2e_checked_source_kg, 0) as co2e_checked_source_kg,
        coalesce(monthly.co2e_recomputed_kg, 0) as co2e_recomputed_kg,
        coalesce(monthly.records_checked, 0) as records_checked,
        coalesce(monthly.record_count, 0) as record_count,
        case when monthly.person_id is null then 0 else monthly.points_earned end as points_earned,
        monthly.missing_factors,
        case when monthly.person_id is not null and monthly.points_earned is null then 1 else 0 end
            as points_missing,
        monthly.inputs_loaded_at
    from persons
    inner join months
        on months.account_month >= persons.first_month
    left join monthly
        on monthly.person_id = persons.person_id
        and monthly.account_month = months.account_month

),

running as (

    select
        accounts.*,
        sum(coalesce(points_earned, 0)) over (
            partition by person_id order by account_month rows between unbounded preceding and current row
        ) as cumulative_points,
        sum(points_missing) over (
            partition by person_id order by account_month rows between unbounded preceding and current row
        ) as cumulative_points_missing,
        max(inputs_loaded_at) over (
            partition by person_id order by account_month rows between unbounded preceding and current row
        ) as cumulative_inputs_loaded_at
    from accounts

),

-- points earned validity months ago expire this month; the balance counts the months after it
balances as (

    select
        running.*,
        case
            when expiring.person_id is null then cast(0 as bigint)
            else expiring.points_earned
        end as points_expired,
        running.cumulative_points - coalesce(expiring.cumulative_points, 0) as window_points,
        running.cumulative_points_missing - coalesce(expiring.cumulative_points_missing, 0) as window_points_missing
    from running
    cross join parameters
    left join running as expiring
        on expiring.person_id = running.person_id
        and expiring.account_month
            = cast({{ dbt.dateadd('month', '-parameters.points_validity_months', 'running.account_month') }} as date)

),

final as (

    select
        balances.account_month,
        balances.person_id,
        balances.record_count,
        balances.bus_co2e_kg,
        balances.cycling_co2e_kg,
        balances.walking_co2e_kg,
        balances.waste_sorting_co2e_kg,
        balances.green_consumption_co2e_kg,
        balances.co2e_reduced_kg,
        balances.co2e_checked_source_kg,
        balances.co2e_recomputed_kg,
        balances.records_checked,
        case
            when balances.records_checked > 0
                then abs(balances.co2e_recomputed_kg - balances.co2e_checked_source_kg)
                    > balances.records_checked * parameters.tolerance_kg_per_record
        end as co2e_disagrees,
        balances.points_earned,
        balances.points_expired,
        case when balances.window_points_missing = 0 then cast(balances.window_points as bigint) end
            as points_balance,
        tiers.tier_seq,
        tiers.tier_code,
        tiers.tier_name_zh,
        tiers.loan_rate_discount_bp,
        tiers.card_benefit,
        case
            when balances.missing_factors is not null and balances.window_points_missing > balances.points_missing
                then {{ dbt.concat(['balances.missing_factors', "', points_earned of an earlier month'"]) }}
            when balances.missing_factors is not null then balances.missing_factors
            when balances.window_points_missing > 0 then 'points_earned of an earlier month'
        end as missing_inputs,
        balances.cumulative_inputs_loaded_at as inputs_loaded_at
    from balances
    cross join parameters
    left join tiers
        on balances.window_points_missing = 0
        and balances.window_points >= tiers.min_points_balance
        and (tiers.next_min_points_balance is null or balances.window_points < tiers.next_min_points_balance)

)

select * from final
