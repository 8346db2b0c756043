-- Green identification of projects (绿色项目认定), one row per green project as the lake knows it, classified
-- against the taxonomy in force at the project's latest report with a scorecard (seed green_identification_criteria,
-- subject 'project') and levels (seed green_identification_levels) [U: the local scorecard is not public].
--   projects      bank_loan: a green loan's project; the loan report carries no project id, so a project is the
--                 borrower's project of that total investment and annual reduction, hashed exactly as
--                 int_green_credit__crf_loans.project_key (the two join); assessed at its latest loan report, with
--                 the category as int_green_credit__green_loans_classified maps it (PBoC green-loan statistics [C]).
--                 green_bond: a green bond of stg_bank__green_bonds (its use of proceeds), assessed at its issue month
--                 against the catalogue in force on its issue date.
--   in_taxonomy   the category has a code in the taxonomy version in force (GICG2019 / GBEPC2021 / GFEPC2025 by
--                 effective date [C]); missing input taxonomy_in_force when no version was in force, category_in_force
--                 when the lake's copy of the version in force has no crosswalk to the category (GFEPC2025 is
--                 loaded at its first level only), bond_taxonomy_version when the bond's own catalogue is not in the lake
--   carbon benefit  direct / indirect carbon-reduction benefit of the 2019 category (seed green_category_carbon_benefit,
--                 PBoC statistics [C], assignment [U]); missing input carbon_benefit_type when unknown
--   quantified_co2e_reduction / investment_disclosed  the project's annual CO2e reduction / total investment reported
--                 (> 0) on its latest loan report; the bond file carries neither: missing input for bonds
-- total = Σ points of met criteria; level = best level whose min_points the total reaches; a missing input earns
-- no points, is named in missing_inputs, and is_level_provisional says the level could be higher without the gap.
-- A table: a project is assessed on its whole loan history (its latest report), which no single month holds. The
-- borrower comes with the classified loan (int_green_credit__green_loans_classified.borrower_id), not from a second
-- read of every delivered loan report (12 of its 18 s at scale 1, issue 9).

{%- set str = dbt.type_string() %}
{%- set assessed_label = dbt.concat(["cast(extract(year from projects.assessed_month) as " ~ str ~ ")", "'-'",
    dbt.right("cast(100 + extract(month from projects.assessed_month) as " ~ str ~ ")", 2)]) %}

with

classified as (

    select * from {{ ref('int_green_credit__green_loans_classified') }}

),

taxonomy as (

    select * from {{ ref('stg_public__green_taxonomies') }}

),

criteria as (

    select criterion_seq, criterion_code, points
    from {{ ref('green_identification_criteria') }}
    where subject = 'project'

),

levels as (

    select level_seq, level_code, level_name_zh, min_points
    from {{ ref('green_identification_levels') }}
    where subject = 'project'

),

benefit as (

    select * from {{ ref('green_category_carbon_benefit') }}

),

-- versions of the taxonomy the lake holds, and whether each has a crosswalk to the 2019 codes
versions as (

    select
        taxonomy_version,
        min(effective_from) as effective_from,
        max(effective_to) as effective_to,
        max(case when gicg2019_code is not null then 1 else 0 end) as has_crosswalk
    from taxonomy
    group by taxonomy_version

),

-- a project is its borrower, total investment and annual reduction; each loan of a project once, then the project:
-- plain aggregates on those columns, the project id hashed once per project (hashing every loan row was 2.4 of the
-- model's 4.5 s at scale 1), and no count(distinct bank|loan) over every loan row (4.6 of 6.9 s before; issue 9)
project_loans as (

    select
        borrower_id,
        project_total_investment_yuan,
        project_annual_co2e_reduction_t,
        bank_code,
        loan_id,
        min(report_month) as first_month,
        max(report_month) as last_month
    from classified
    group by borrower_id, project_total_investment_yuan, project_annual_co2e_reduction_t, bank_code, loan_id

),

loan_project_totals as (

    select
        {{ dbt.hash(dbt.concat([
            'borrower_id', "'|'",
            "coalesce(cast(project_total_investment_yuan as " ~ str ~ "), '')", "'|'",
            "coalesce(cast(project_annual_co2e_reduction_t as " ~ str ~ "), '')"
        ])) }} as project_id,
        borrower_id,
        project_total_investment_yuan,
        project_annual_co2e_reduction_t,
        min(first_month) as first_month,
        max(last_month) as last_month,
        count(*) as financing_count
    from project_loans
    group by borrower_id, project_total_investment_yuan, project_annual_co2e_reduction_t

),

-- the rows of each project's latest month, ranked within it: the windows sort that month's rows, not the history
-- (two windows over every loan row were 12-15 of the model's 15-18 s at scale 1); a figure the project lacks is
-- null on both sides, hence the null-safe comparison
loan_project_latest as (

    select
        totals.project_id,
        classified.*,
        row_number() over (
            partition by totals.project_id
            order by classified.green_category_code, classified.bank_code, classified.loan_id
        ) as latest_rank,
        sum(classified.balance_yuan) over (partition by totals.project_id) as month_balance_yuan
    from classified
    inner join loan_project_totals as totals
        on totals.borrower_id is not distinct from classified.borrower_id
        and totals.project_total_investment_yuan is not distinct from classified.project_total_investment_yuan
        and totals.project_annual_co2e_reduction_t is not distinct from classified.project_annual_co2e_reduction_t
        and totals.last_month = classified.report_month

),

loan_projects as (

    select
        'bank_loan' as project_source,
        latest.project_id,
        latest.borrower_id as owner_id,
        latest.taxonomy_version,
        latest.green_category_code,
        totals.first_month,
        totals.last_month as assessed_month,
        latest.taxonomy_version_in_force,
        latest.category_code_in_force,
        latest.gicg2019_code,
        latest.green_first_level_code,
        latest.carbon_benefit_type,
        latest.project_total_investment_yuan,
        latest.project_annual_co2e_reduction_t,
        cast(totals.financing_count as bigint) as financing_count,
        cast(latest.month_balance_yuan as decimal(20, 2)) as outstanding_yuan,
        -- a join, not an IN subquery in the select list (Spark allows those only in filters)
        (own_version.taxonomy_version is not null) as is_own_taxonomy_known,
        true as has_project_figures
    from loan_project_latest as latest
    inner join loan_project_totals as totals on totals.project_id = latest.project_id
    left join versions as own_version on own_version.taxonomy_version = latest.taxonomy_version
    where latest.latest_rank = 1

),

bonds as (

    select * from {{ ref('stg_bank__green_bonds') }}

),

bond_version_in_force as (

    select
        bonds.bond_code,
        versions.taxonomy_version,
        row_number() over (partition by bonds.bond_code order by versions.effective_from desc) as version_rank
    from bonds
    inner join versions
        on versions.effective_from <= bonds.issue_date
        and (versions.effective_to is null or versions.effective_to >= bonds.issue_date)

),

bond_codes as (

    select
        bonds.*,
        in_force.taxonomy_version as taxonomy_version_in_force,
        own.category_code as own_category_code,
        case when bonds.taxonomy_version = 'GICG2019' then own.category_code else own.gicg2019_code end
            as gicg2019_code
    from bonds
    left join bond_version_in_force as in_force
        on in_force.bond_code = bonds.bond_code
        and in_force.version_rank = 1
    left join taxonomy as own
        on own.taxonomy_version = bonds.taxonomy_version
        and own.category_code = bonds.green_category_code

),

crosswalk as (

    select taxonomy_version, gicg2019_code, min(category_code) as category_code
    from taxonomy
    where gicg2019_code is not null
    group by taxonomy_version, gicg2019_code

),

bond_first_level as (

    select
        bond_codes.*,
        case
            when bond_codes.own_category_code is not null
                and bond_codes.taxonomy_version = bond_codes.taxonomy_version_in_force then bond_codes.own_category_code
            when bond_codes.taxonomy_version_in_force = 'GICG2019' then bond_codes.gicg2019_code
            else crosswalk.category_code
        end as category_code_in_force,
        case when bond_codes.gicg2019_code is not null
            then {{ dbt.split_part('bond_codes.gicg2019_code', "'.'", 1) }} end as green_first_level_code,
        case when bond_codes.gicg2019_code like '%.%'
            then {{ dbt.concat([dbt.split_part('bond_codes.gicg2019_code', "'.'", 1), "'.'",
                                dbt.split_part('bond_codes.gicg2019_code', "'.'", 2)]) }} end as second_level_code
    from bond_codes
    left join crosswalk
        on crosswalk.taxonomy_version = bond_codes.taxonomy_version_in_force
        and crosswalk.gicg2019_code = bond_codes.gicg2019_code

),

bond_projects as (

    select
        'green_bond' as project_source,
        bond_first_level.bond_code as project_id,
        bond_first_level.issuer_uscc as owner_id,
        bond_first_level.taxonomy_version,
        bond_first_level.green_category_code,
        bond_first_level.issue_month as first_month,
        bond_first_level.issue_month as assessed_month,
        bond_first_level.taxonomy_version_in_force,
        bond_first_level.category_code_in_force,
        bond_first_level.gicg2019_code,
        bond_first_level.green_first_level_code,
        coalesce(second_level_benefit.benefit_type, first_level_benefit.benefit_type) as carbon_benefit_type,
        cast(null as decimal(18, 2)) as project_total_investment_yuan,
        cast(null as decimal(18, 4)) as project_annual_co2e_reduction_t,
        cast(1 as bigint) as financing_count,
        cast(bond_first_level.amount_yuan as decimal(20, 2)) as outstanding_yuan,
        (own_version.taxonomy_version is not null) as is_own_taxonomy_known,
        false as has_project_figures
    from bond_first_level
    left join versions as own_version on own_version.taxonomy_version = bond_first_level.taxonomy_version
    left join benefit as first_level_benefit
        on first_level_benefit.category_level = 1
        and first_level_benefit.gicg2019_category_code = bond_first_level.green_first_level_code
    left join benefit as second_level_benefit
        on second_level_benefit.category_level = 2
        and second_level_benefit.gicg2019_category_code = bond_first_level.second_level_code

),

projects as (

    select * from loan_projects
    union all
    select * from bond_projects

),

assessed as (

    select
        projects.*,
        {{ assessed_label }} as assessed_label,
        case
            when projects.category_code_in_force is not null then null
            when not projects.is_own_taxonomy_known then 'bond_taxonomy_version'
            when projects.taxonomy_version_in_force is null then 'taxonomy_in_force'
            when versions.has_crosswalk = 0 and projects.green_first_level_code is not null then 'category_in_force'
        end as taxonomy_missing_input
    from projects
    left join versions on versions.taxonomy_version = projects.taxonomy_version_in_force

),

facts as (

    select
        project_source, project_id, 'in_taxonomy' as criterion_code,
        case
            when category_code_in_force is not null then true
            when taxonomy_missing_input is null then false
        end as is_met,
        case
            when category_code_in_force is not null
                then {{ dbt.concat(["'category '", 'green_category_code', "' ('", 'taxonomy_version', "') is '",
                                    'category_code_in_force', "' in '", 'taxonomy_version_in_force',
                                    "', in force at '", 'assessed_label']) }}
            when taxonomy_missing_input = 'bond_taxonomy_version'
                then {{ dbt.concat(["'catalogue '", 'taxonomy_version', "' not in the lake'"]) }}
            when taxonomy_missing_input = 'taxonomy_in_force'
                then {{ dbt.concat(["'no catalogue in force at '", 'assessed_label']) }}
            when taxonomy_missing_input = 'category_in_force'
                then {{ dbt.concat(["'catalogue in force at '", 'assessed_label', "', '", 'taxonomy_version_in_force',
                                    "', has no crosswalk to GICG2019 '", "coalesce(gicg2019_code, green_first_level_code)"]) }}
            else {{ dbt.concat(["'category '", 'green_category_code', "' ('", 'taxonomy_version', "') not in '",
                                "coalesce(taxonomy_version_in_force, '?')", "' in force at '", 'assessed_label']) }}
        end as evidence,
        taxonomy_missing_input as missing_input
    from assessed

    union all

    select
        project_source, project_id, benefit_criteria.criterion_code,
        case when carbon_benefit_type is not null then carbon_benefit_type = benefit_criteria.benefit_type end,
        case
            when carbon_benefit_type is null then 'carbon-reduction benefit of the category unknown'
            else {{ dbt.concat(["'GICG2019 '", "coalesce(gicg2019_code, green_first_level_code)", "': '",
                                'carbon_benefit_type', "' carbon-reduction benefit'"]) }}
        end,
        -- named once, on the direct criterion (the two exclude each other)
        case when carbon_benefit_type is null and benefit_criteria.benefit_type = 'direct' then 'carbon_benefit_type' end
    from assessed
    cross join (
        select 'direct_carbon_benefit' as criterion_code, 'direct' as benefit_type
        union all
        select 'indirect_carbon_benefit', 'indirect'
    ) as benefit_criteria

    union all

    select
        project_source, project_id, 'quantified_co2e_reduction',
        case when has_project_figures then coalesce(project_annual_co2e_reduction_t > 0, false) end,
        case
            when not has_project_figures then 'the bond file carries no project CO2e reduction'
            when project_annual_co2e_reduction_t > 0
                then {{ dbt.concat(["cast(project_annual_co2e_reduction_t as " ~ str ~ ")", "' t CO2e a year ('",
                                    'assessed_label', "')'"]) }}
            else {{ dbt.concat(["'no annual CO2e reduction reported ('", 'assessed_label', "')'"]) }}
        end,
        case when not has_project_figures then 'project_annual_co2e_reduction' end
    from assessed

    union all

    select
        project_source, project_id, 'investment_disclosed',
        case when has_project_figures then coalesce(project_total_investment_yuan > 0, false) end,
        case
            when not has_project_figures then 'the bond file carries no project total investment'
            when project_total_investment_yuan > 0
                then {{ dbt.concat(["'project total investment '", "cast(project_total_investment_yuan as " ~ str ~ ")",
                                    "' yuan ('", 'assessed_label', "')'"]) }}
            else {{ dbt.concat(["'no project total investment reported ('", 'assessed_label', "')'"]) }}
        end,
        case when not has_project_figures then 'project_total_investment' end
    from assessed

),

scored as (

    select
        facts.*,
        criteria.criterion_seq,
        cast(criteria.points as decimal(9, 2)) as points_available,
        cast(case when facts.is_met then criteria.points when not facts.is_met then 0 end as decimal(9, 2))
            as points_awarded
    from facts
    inner join criteria on criteria.criterion_code = facts.criterion_code

),

totals as (

    select
        project_source,
        project_id,
        max(case when criterion_code = 'in_taxonomy' then points_awarded end) as in_taxonomy_points,
        max(case when criterion_code = 'direct_carbon_benefit' then points_awarded end) as direct_carbon_benefit_points,
        max(case when criterion_code = 'indirect_carbon_benefit' then points_awarded end)
            as indirect_carbon_benefit_points,
        max(case when criterion_code = 'quantified_co2e_reduction' then points_awarded end)
            as quantified_co2e_reduction_points,
        max(case when criterion_code = 'investment_disclosed' then points_awarded end) as investment_disclosed_points,
        cast(sum(coalesce(points_awarded, 0)) as decimal(9, 2)) as total_points,
        -- what the missing inputs could add: their points, the two benefit criteria counting once (they exclude each other)
        cast(sum(coalesce(points_awarded, 0))
             + sum(case when points_awarded is null and criterion_code not in ('direct_carbon_benefit', 'indirect_carbon_benefit')
                        then points_available else 0 end)
             + coalesce(max(case when points_awarded is null and criterion_code in ('direct_carbon_benefit', 'indirect_carbon_benefit')
                                 then points_available end), 0)
             as decimal(9, 2)) as max_possible_points,
        {{ scorecard_evidence() }} as evidence,
        {{ ordered_listagg('missing_input', "', '", 'criterion_seq') }} as missing_inputs_all
    from scored
    group by project_source, project_id

),

level_of_total as (

    select
        totals.project_source,
        totals.project_id,
        {{ scorecard_level_seq('totals.total_points') }} as level_seq,
        {{ scorecard_level_seq('totals.max_possible_points') }} as best_possible_level_seq
    from totals
    cross join levels
    group by totals.project_source, totals.project_id

),

final as (

    select
        projects.project_source,
        projects.project_id,
        projects.owner_id,
        projects.taxonomy_version,
        projects.green_category_code,
        projects.first_month,
        projects.assessed_month,
        projects.taxonomy_version_in_force,
        projects.category_code_in_force,
        projects.gicg2019_code,
        projects.green_first_level_code,
        projects.carbon_benefit_type,
        projects.project_total_investment_yuan,
        projects.project_annual_co2e_reduction_t,
        projects.financing_count,
        projects.outstanding_yuan,
        totals.in_taxonomy_points,
        totals.direct_carbon_benefit_points,
        totals.indirect_carbon_benefit_points,
        totals.quantified_co2e_reduction_points,
        totals.investment_disclosed_points,
        totals.total_points,
        totals.max_possible_points,
        levels.level_code as identification_level,
        levels.level_name_zh as identification_level_zh,
        level_of_total.level_seq as identification_level_seq,
        (level_of_total.best_possible_level_seq < level_of_total.level_seq) as is_level_provisional,
        totals.evidence,
        totals.missing_inputs_all as missing_inputs
    from projects
    inner join totals
        on totals.project_source = projects.project_source
        and totals.project_id = projects.project_id
    inner join level_of_total
        on level_of_total.project_source = projects.project_source
        and level_of_total.project_id = projects.project_id
    left join levels on levels.level_seq = level_of_total.level_seq

)

select * from final
