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
-- Kept month by month (incremental_by_period, strategy replace_periods), no longer a table rebuilt whole: at scale 1
-- that was about 21 million rows rewritten for one new month (issue 9); a run now computes and writes only the
-- months that can change. A month's balance depends on the earlier months of the person, so a (re)delivery of
-- month M changes M and every later month: the run recomputes every month from the earliest month of
-- int_carbon_account__behaviours_monthly whose inputs_loaded_at is newer than this mart's watermark (or named in
-- --vars rebuild_periods) to the newest month in the data, reading the intermediate from that month on only;
-- replace_periods deletes those months and inserts them in one transaction (the run produces every one of them:
-- the rows are dense). One new month: one month of rows (about 250,000 at scale 1). Nothing delivered: nothing.
-- What the recomputed months need from before them is read from the mart itself, whose earlier months the run
-- leaves as they are: the balance and inputs_loaded_at (cumulative) of the month before, from which the balances
-- continue (balance = previous balance + points earned - points expired, which also holds when points never
-- expire: the balance is then the cumulative points), and the points of the earlier months that expire in a
-- recomputed month (the validity months before at most; for one new month only the one validity months before).
-- Balance = cumulative points - cumulative points validity months earlier gives the same figures on a full build.
-- Changing a seed (factors, tiers, parameters) is not watched: rebuild with --full-refresh. Rows: every month from
-- the person's first record to the newest month in the data (dense, so the balance and tier of an inactive month,
-- and expiry, are visible): at most 250,000 x 84 (about 21 million) rows at scale 1, read from the monthly
-- aggregate, not the records.
{{ config(**incremental_by_period('account_month',
    inputs=[['int_carbon_account__behaviours_monthly', 'record_month', 'inputs_loaded_at']])) }}

with

parameters as (

    select
        cast(max(case when parameter = 'points_validity_months' then value end) as integer)
            as points_validity_months,
        max(case when parameter = 'recompute_tolerance_kg_per_record' then value end)
            as tolerance_kg_per_record
    from {{ ref('carbon_account_parameters') }}

),

-- the first month the run recomputes: the first month in the data on a full build, else the earliest month
-- (re)delivered since the mart was last built; null when nothing was
rebuild_from as (

    select min(record_month) as first_month
    from {{ ref('int_carbon_account__behaviours_monthly') }}
    where {{ periods_to_rebuild('record_month') }}

),

behaviours as (

    select behaviours.*
    from {{ ref('int_carbon_account__behaviours_monthly') }} as behaviours
    {%- if is_incremental() %}
    inner join rebuild_from
        on behaviours.record_month >= rebuild_from.first_month
    {%- endif %}

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

{%- set validity = 'parameters.points_validity_months' %}

-- What the recomputed months need from the months before them, read from the mart (whose earlier months the run
-- leaves as they are); empty on a full build. (1) Each person's row of the month before the first recomputed one:
-- its balance is where the recomputed balances start, its inputs_loaded_at the newest load so far.
month_before as (

    {%- if is_incremental() %}
    select previous.account_month, previous.person_id, previous.points_balance, previous.inputs_loaded_at
    from {{ this }} as previous
    inner join rebuild_from
        on previous.account_month = cast({{ dbt.dateadd('month', '-1', 'rebuild_from.first_month') }} as date)
    {%- else %}
    select record_month as account_month, person_id, cast(null as {{ dbt.type_bigint() }}) as points_balance,
        inputs_loaded_at
    from behaviours
    where 1 = 0
    {%- endif %}

),

-- (2) When that balance is unknown (a month of the window without a points rate) and points expire, the window
-- recomputed from the mart: its known points and the number of unknown months, which expire one by one in the
-- recomputed months (rare: read only for those persons).
unknown_balances as (

    {%- if is_incremental() %}
    select
        earlier.person_id,
        sum(coalesce(earlier.points_earned, 0)) as window_points,
        count(*) - count(earlier.points_earned) as window_points_missing
    from month_before
    cross join parameters
    cross join rebuild_from
    inner join {{ this }} as earlier
        on earlier.person_id = month_before.person_id
        and earlier.account_month <= month_before.account_month
        and earlier.account_month
            >= cast({{ dbt.dateadd('month', '-' ~ validity, 'rebuild_from.first_month') }} as date)
    where month_before.points_balance is null
    group by earlier.person_id
    {%- else %}
    select person_id, cast(null as {{ dbt.type_bigint() }}) as window_points, 0 as window_points_missing
    from behaviours
    where 1 = 0
    {%- endif %}

),

previous_balances as (

    select
        month_before.account_month,
        month_before.person_id,
        coalesce(month_before.points_balance, unknown_balances.window_points, 0) as window_points,
        case
            when month_before.points_balance is not null then 0
            -- points never expire: unknown for good, how many months does not matter
            when {{ validity }} is null then 1
            else unknown_balances.window_points_missing
        end as window_points_missing,
        month_before.inputs_loaded_at
    from month_before
    cross join parameters
    left join unknown_balances
        on unknown_balances.person_id = month_before.person_id

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

-- (3) The points of the months before the first recomputed one that expire in a recomputed month: the validity
-- months before it at most, only the one validity months before it for one new month; none when points never
-- expire. (Months listed, so the mart is read by equality on account_month.)
previous_months as (

    select cast({{ dbt.dateadd('month', '-month_numbers.generated_number', 'rebuild_from.first_month') }} as date)
        as account_month
    from month_numbers
    cross join parameters
    cross join rebuild_from
    cross join bounds
    where month_numbers.generated_number <= {{ validity }}
        and cast({{ dbt.dateadd('month', '-month_numbers.generated_number', 'rebuild_from.first_month') }} as date)
            <= cast({{ dbt.dateadd('month', '-' ~ validity, 'bounds.last_month') }} as date)

),

previous_points as (

    {%- if is_incremental() %}
    select
        previous.account_month,
        previous.person_id,
        previous.points_earned,
        case when previous.points_earned is null then 1 else 0 end as points_missing
    from {{ this }} as previous
    inner join previous_months
        on previous.account_month = previous_months.account_month
    {%- else %}
    select record_month as account_month, person_id, cast(null as {{ dbt.type_bigint() }}) as points_earned,
        0 as points_missing
    from behaviours
    where 1 = 0
    {%- endif %}

),

persons as (

    select person_id, min(account_month) as first_month
    from (
        select person_id, account_month from monthly
        union all
        select person_id, account_month from previous_balances
    ) as person_months
    group by person_id

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

-- every month a recomputed month can see expire: the recomputed months and the previous points
expirable as (

    select account_month, person_id, points_earned, points_missing from accounts
    union all
    select account_month, person_id, points_earned, points_missing from previous_points

),

-- points earned validity months ago expire this month; the balance counts the months after it:
-- the balance before the first recomputed month (0 on a full build) + what each month earned - what expired
changes as (

    select
        accounts.*,
        case
            when expiring.person_id is null then cast(0 as {{ dbt.type_bigint() }})
            else expiring.points_earned
        end as points_expired,
        coalesce(accounts.points_earned, 0) - coalesce(expiring.points_earned, 0) as points_change,
        accounts.points_missing - coalesce(expiring.points_missing, 0) as points_missing_change
    from accounts
    cross join parameters
    left join expirable as expiring
        on expiring.person_id = accounts.person_id
        and expiring.account_month
            = cast({{ dbt.dateadd('month', '-' ~ validity, 'accounts.account_month') }} as date)

),

running as (

    select
        changes.*,
        sum(points_change) over (
            partition by person_id order by account_month rows between unbounded preceding and current row
        ) as running_points,
        sum(points_missing_change) over (
            partition by person_id order by account_month rows between unbounded preceding and current row
        ) as running_points_missing,
        max(inputs_loaded_at) over (
            partition by person_id order by account_month rows between unbounded preceding and current row
        ) as running_inputs_loaded_at
    from changes

),

balances as (

    select
        running.*,
        coalesce(previous_balances.window_points, 0) + running.running_points as window_points,
        coalesce(previous_balances.window_points_missing, 0) + running.running_points_missing
            as window_points_missing,
        case
            when previous_balances.inputs_loaded_at is null then running.running_inputs_loaded_at
            when running.running_inputs_loaded_at is null then previous_balances.inputs_loaded_at
            when running.running_inputs_loaded_at > previous_balances.inputs_loaded_at
                then running.running_inputs_loaded_at
            else previous_balances.inputs_loaded_at
        end as cumulative_inputs_loaded_at
    from running
    left join previous_balances
        on previous_balances.person_id = running.person_id

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
