-- Green identification of enterprises (绿色企业认定), one row per enterprise and year: the scorecard's points per
-- criterion (int_green_identification__enterprise_criteria_yearly), their total, the level it reaches and the
-- evidence of every criterion. Method: total = Σ points of the met criteria (seed green_identification_criteria);
-- level = the best level of seed green_identification_levels (subject 'enterprise') whose min_points the total
-- reaches — dark / medium / light green, not green [U: the Huzhou 绿色融资主体认定 scorecard is not public].
-- A criterion whose input is missing earns no points and is named in missing_inputs; max_possible_points adds its
-- points back, and is_level_provisional says the level could be higher with the missing inputs (never a silent 0).
-- Kept year by year (macro incremental_by_period) with the criteria, which watch every input of a year; a new registry
-- dump (names, districts) recomputes every year. inputs_loaded_at: the newest of the criteria's and the registry's.

{{ config(**incremental_by_period('year', inputs=[
    ['int_green_identification__enterprise_criteria_yearly', 'year', 'inputs_loaded_at'],
    ['stg_enterprise__registries', none, '_loaded_at']])) }}

with

criteria as (

    select * from {{ ref('int_green_identification__enterprise_criteria_yearly') }}
    where {{ periods_to_rebuild('year') }}

),

registry as (

    select credit_code, enterprise_name, industry_code, district_code, _loaded_at
    from {{ ref('stg_enterprise__registries') }}

),

register_loads as (

    select max(_loaded_at) as loaded_at from registry

),

levels as (

    select level_seq, level_code, level_name_zh, min_points
    from {{ ref('green_identification_levels') }}
    where subject = 'enterprise'

),

totals as (

    select
        credit_code,
        year,
        cast(sum(coalesce(points_awarded, 0)) as decimal(9, 2)) as total_points,
        cast(sum(case when points_awarded is null then points_available else points_awarded end) as decimal(9, 2))
            as max_possible_points,
        max(case when criterion_code = 'green_loan_share' then points_awarded end) as green_loan_share_points,
        max(case when criterion_code = 'green_industry' then points_awarded end) as green_industry_points,
        max(case when criterion_code = 'carbon_efficiency' then points_awarded end) as carbon_efficiency_points,
        max(case when criterion_code = 'no_environmental_penalty' then points_awarded end)
            as no_environmental_penalty_points,
        max(case when criterion_code = 'green_bond' then points_awarded end) as green_bond_points,
        {{ scorecard_evidence() }} as evidence,
        {{ ordered_listagg('missing_input', "', '", 'criterion_seq') }} as missing_inputs,
        max(inputs_loaded_at) as inputs_loaded_at
    from criteria
    group by credit_code, year

),

-- the best level a total reaches (levels are ordered: level_seq 1 has the highest min_points)
level_of_total as (

    select
        totals.credit_code,
        totals.year,
        {{ scorecard_level_seq('totals.total_points') }} as level_seq,
        {{ scorecard_level_seq('totals.max_possible_points') }} as best_possible_level_seq
    from totals
    cross join levels
    group by totals.credit_code, totals.year

),

final as (

    select
        totals.credit_code,
        registry.enterprise_name,
        totals.year,
        registry.industry_code,
        registry.district_code,
        totals.green_loan_share_points,
        totals.green_industry_points,
        totals.carbon_efficiency_points,
        totals.no_environmental_penalty_points,
        totals.green_bond_points,
        totals.total_points,
        totals.max_possible_points,
        levels.level_code as identification_level,
        levels.level_name_zh as identification_level_zh,
        level_of_total.level_seq as identification_level_seq,
        (level_of_total.best_possible_level_seq < level_of_total.level_seq) as is_level_provisional,
        totals.evidence,
        totals.missing_inputs,
        greatest(totals.inputs_loaded_at, register_loads.loaded_at) as inputs_loaded_at
    from totals
    inner join level_of_total
        on level_of_total.credit_code = totals.credit_code
        and level_of_total.year = totals.year
    left join levels on levels.level_seq = level_of_total.level_seq
    left join registry on registry.credit_code = totals.credit_code
    cross join register_loads

)

select * from final
