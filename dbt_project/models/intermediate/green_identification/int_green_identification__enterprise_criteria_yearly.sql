-- Green identification scorecard (绿色企业认定), one row per enterprise, year and criterion: whether the criterion is
-- met, the points it earns and the fact that earned them (the evidence). Criteria, points and thresholds are the
-- seed green_identification_criteria (subject 'enterprise'); every point and threshold is [U] (the Huzhou
-- 绿色融资主体认定 scorecard is not public, ../shared/reference/domain-methods.md, plan 2021-2025 section 五).
--   enterprises        the enterprise registry, every year of the loan reports in which the firm existed
--                      (established by the year's end, not deregistered before its start)
--   green_loan_share   PBoC green-loan statistics [C]: the firm's loan balance at the year's last report month in
--                      green loans whose category maps to the taxonomy (int_green_credit__green_loans_classified:
--                      a first level of 绿色产业指导目录 2019, through the category in force per
--                      stg_public__green_taxonomies; the evidence names the categories as 2019 codes)
--                      ÷ all its loan balance, met when >= threshold; no loan outstanding: not met (share 0);
--                      a green loan with an unmapped category: missing input green_loan_category
--   green_industry     the registry's GB/T 4754 industry under a prefix of seed green_identification_industry_categories
--                      (longest prefix); no industry code: missing input industry_code
--   carbon_efficiency  Zhejiang 碳效码 grade of the year (fct_carbon_efficiency_yearly) [S], met when <= threshold;
--                      no grade: missing input carbon_efficiency_grade (the grade covers industrial firms only)
--   no_environmental_penalty  no penalty of stg_public__environmental_penalties decided in the year (Huzhou
--                      regulation art. 28); a year the penalty list has no decision at all: missing input
--                      environmental_penalties (a list not delivered is not a clean record)
--   green_bond         a green bond of stg_bank__green_bonds issued by the firm (issuer_uscc) outstanding in the year
-- A criterion with a missing input has is_met and points_awarded null (never a silent 0).
-- Kept year by year (macro incremental_by_period): a year is recomputed when a loan report or classified green loan of
-- one of its months, a penalty decided in it, or its energy data, financial statements or carbon-intensity benchmarks
-- are delivered (again); a green bond recomputes its issue year and every later one (outstanding from then on,
-- and_later); a new registry dump recomputes every year. A month of loans costs its year, not the seven (3.1 s a run
-- at scale 1 as a table, issue 9). The carbon grades come from fct_carbon_efficiency_yearly, a table rebuilt whole
-- every run from the registry, energy data, financial statements and benchmarks: those are watched here instead (its
-- seed, as every seed, asks for a --full-refresh), so the two are built in the same run (a run that selects this
-- model alone after new energy data reads the old grades, and its year is not rebuilt again). inputs_loaded_at is
-- the newest load time among the year's inputs, the bonds issued by its end and the registry.

{%- set str = dbt.type_string() %}
{%- set loan_year = "cast(extract(year from report_month) as integer)" %}
{%- set penalty_year = "cast(extract(year from decision_date) as integer)" %}
{%- set bond_year = "cast(extract(year from issue_date) as integer)" %}
{{ config(**incremental_by_period('year', inputs=[
    ['stg_enterprise__registries', none, '_loaded_at'],
    ['stg_bank__loans', loan_year, 'loaded_at'],
    ['int_green_credit__green_loans_classified', loan_year, 'inputs_loaded_at'],
    ['stg_public__environmental_penalties', penalty_year, '_loaded_at'],
    ['stg_bank__green_bonds', bond_year, '_loaded_at'],
    ['stg_enterprise__energy_emissions', 'year', '_loaded_at'],
    ['stg_enterprise__financials', 'year', '_loaded_at'],
    ['stg_public__carbon_intensity_benchmarks', 'benchmark_year', '_loaded_at']],
    and_later=['stg_bank__green_bonds'], not_watched=['fct_carbon_efficiency_yearly'])) }}

with

registry as (

    select credit_code, industry_code, established_date, deregistered_date, _loaded_at
    from {{ ref('stg_enterprise__registries') }}

),

criteria as (

    select criterion_seq, criterion_code, points, threshold
    from {{ ref('green_identification_criteria') }}
    where subject = 'enterprise'

),

-- the last report month of each year of the loan reports to compute: the year-end position
year_ends as (

    select
        {{ loan_year }} as year,
        max(report_month) as year_end_month,
        max(loaded_at) as loaded_at
    from {{ ref('stg_bank__loans') }}
    where {{ periods_to_rebuild(loan_year, year_of='report_month') }}
    group by {{ loan_year }}

),

enterprise_years as (

    select registry.credit_code, registry.industry_code, year_ends.year, year_ends.year_end_month
    from registry
    cross join year_ends
    where (registry.established_date is null or cast(extract(year from registry.established_date) as integer) <= year_ends.year)
        and (registry.deregistered_date is null
             or cast(extract(year from registry.deregistered_date) as integer) >= year_ends.year)

),

year_end_loans as (

    select loans.borrower_id, loans.bank_code, loans.loan_id, loans.report_month, loans.balance_yuan, loans.is_green
    from {{ ref('stg_bank__loans') }} as loans
    inner join year_ends on year_ends.year_end_month = loans.report_month
    where loans.borrower_id in (select credit_code from registry)
        and {{ periods_to_rebuild(loan_year, year_of='report_month') }}

),

classified as (

    select bank_code, loan_id, report_month, green_first_level_code, gicg2019_code
    from {{ ref('int_green_credit__green_loans_classified') }}
    where report_month in (select year_end_month from year_ends)
        and {{ periods_to_rebuild(loan_year, year_of='report_month') }}

),

loans_classified as (

    select
        year_end_loans.*,
        classified.green_first_level_code,
        classified.gicg2019_code,
        (year_end_loans.is_green and classified.green_first_level_code is not null) as is_taxonomy_green,
        (year_end_loans.is_green and classified.green_first_level_code is null) as is_category_unmapped
    from year_end_loans
    left join classified
        on classified.bank_code = year_end_loans.bank_code
        and classified.loan_id = year_end_loans.loan_id
        and classified.report_month = year_end_loans.report_month

),

loan_totals as (

    select
        borrower_id,
        report_month,
        count(*) as loan_count,
        sum(case when is_taxonomy_green then 1 else 0 end) as green_loan_count,
        sum(case when is_category_unmapped then 1 else 0 end) as unmapped_loan_count,
        sum(balance_yuan) as balance_yuan,
        coalesce(sum(case when is_taxonomy_green then balance_yuan end), 0) as green_balance_yuan
    from loans_classified
    group by borrower_id, report_month

),

loan_categories as (

    select
        borrower_id,
        report_month,
        {{ dbt.listagg('category_code', "', '", 'order by category_code') }} as categories
    from (
        select distinct borrower_id, report_month, coalesce(gicg2019_code, green_first_level_code) as category_code
        from loans_classified
        where is_taxonomy_green
    ) as distinct_categories
    group by borrower_id, report_month

),

green_loan_share as (

    select
        enterprise_years.credit_code,
        enterprise_years.year,
        coalesce(loan_totals.loan_count, 0) as loan_count,
        coalesce(loan_totals.green_loan_count, 0) as green_loan_count,
        coalesce(loan_totals.unmapped_loan_count, 0) as unmapped_loan_count,
        coalesce({{ exact_ratio('loan_totals.green_balance_yuan', 'loan_totals.balance_yuan', 6) }}, 0) as share,
        loan_categories.categories,
        {{ dbt.concat(["cast(extract(year from enterprise_years.year_end_month) as " ~ str ~ ")", "'-'",
                       dbt.right("cast(100 + extract(month from enterprise_years.year_end_month) as " ~ str ~ ")", 2)]) }}
            as month_label
    from enterprise_years
    left join loan_totals
        on loan_totals.borrower_id = enterprise_years.credit_code
        and loan_totals.report_month = enterprise_years.year_end_month
    left join loan_categories
        on loan_categories.borrower_id = enterprise_years.credit_code
        and loan_categories.report_month = enterprise_years.year_end_month

),

industry_match as (

    select
        enterprise_years.credit_code,
        enterprise_years.year,
        enterprise_years.industry_code,
        mapping.industry_code_prefix,
        mapping.gicg2019_category_code,
        row_number() over (
            partition by enterprise_years.credit_code, enterprise_years.year
            order by {{ dbt.length('mapping.industry_code_prefix') }} desc
        ) as prefix_rank
    from enterprise_years
    left join {{ ref('green_identification_industry_categories') }} as mapping
        on substring(enterprise_years.industry_code, 1, {{ dbt.length('mapping.industry_code_prefix') }})
            = mapping.industry_code_prefix

),

penalties as (

    select
        credit_code,
        {{ penalty_year }} as year,
        decision_number,
        _loaded_at
    from {{ ref('stg_public__environmental_penalties') }}
    where {{ periods_to_rebuild(penalty_year, year_of='decision_date') }}

),

penalty_years as (

    select distinct year from penalties

),

penalty_counts as (

    select
        credit_code,
        year,
        count(*) as penalty_count,
        {{ dbt.listagg('decision_number', "', '", 'order by decision_number') }} as decisions
    from penalties
    group by credit_code, year

),

bonds_outstanding as (

    select
        enterprise_years.credit_code,
        enterprise_years.year,
        count(*) as bond_count,
        {{ dbt.listagg(dbt.concat(['bonds.bond_code', "' ('", 'bonds.taxonomy_version', "' '", 'bonds.green_category_code', "')'"]),
                       "', '", 'order by bonds.bond_code') }} as bonds
    from enterprise_years
    inner join {{ ref('stg_bank__green_bonds') }} as bonds
        on bonds.issuer_uscc = enterprise_years.credit_code
        and cast(extract(year from bonds.issue_date) as integer) <= enterprise_years.year
        and (bonds.maturity_date is null or cast(extract(year from bonds.maturity_date) as integer) >= enterprise_years.year)
    group by enterprise_years.credit_code, enterprise_years.year

),

carbon as (

    select credit_code, year, carbon_efficiency_grade
    from {{ ref('fct_carbon_efficiency_yearly') }}
    where {{ periods_to_rebuild('year') }}

),

-- the newest load among each year's inputs, the bonds issued by its end and the registry. Every row that rebuilds a
-- year of loan reports counts, those the criteria leave out too (a loan to a person, a green loan of another month):
-- one left out would look new to every later run and rebuild its year again, until a newer delivery moved the
-- watermark past it. A year no loan report covers yields no row to carry its inputs' load times (a benchmark of a
-- year before the first report): such a row is seen again by each run, which rebuilds that year as empty, until a
-- newer delivery of any input moves the watermark past it.
year_loads as (

    select year_ends.year, max(loads.loaded_at) as loaded_at
    from year_ends
    left join (
        select year, loaded_at from year_ends
        union all
        select {{ loan_year }}, max(inputs_loaded_at) from {{ ref('int_green_credit__green_loans_classified') }}
        where {{ periods_to_rebuild(loan_year, year_of='report_month') }}
        group by {{ loan_year }}
        union all select year, _loaded_at from penalties
        union all
        select year, _loaded_at from {{ ref('stg_enterprise__energy_emissions') }} where {{ periods_to_rebuild('year') }}
        union all
        select year, _loaded_at from {{ ref('stg_enterprise__financials') }} where {{ periods_to_rebuild('year') }}
        union all
        select benchmark_year, _loaded_at from {{ ref('stg_public__carbon_intensity_benchmarks') }}
        where {{ periods_to_rebuild('benchmark_year') }}
    ) as loads
        on loads.year = year_ends.year
    group by year_ends.year

),

bond_loads as (

    select year_ends.year, max(bonds._loaded_at) as loaded_at
    from year_ends
    inner join {{ ref('stg_bank__green_bonds') }} as bonds
        on {{ bond_year }} <= year_ends.year
    group by year_ends.year

),

register_loads as (

    select max(_loaded_at) as loaded_at from registry

),

facts as (

    -- one row per enterprise, year and criterion code: met (null when undecidable), evidence, missing input
    select
        green_loan_share.credit_code,
        green_loan_share.year,
        'green_loan_share' as criterion_code,
        case when green_loan_share.unmapped_loan_count = 0
            then green_loan_share.share >= criteria.threshold end as is_met,
        case
            when green_loan_share.loan_count = 0
                then {{ dbt.concat(["'no loan outstanding at '", 'green_loan_share.month_label']) }}
            else {{ dbt.concat([
                "'green loans '", "cast(green_loan_share.green_loan_count as " ~ str ~ ")",
                "' of '", "cast(green_loan_share.loan_count as " ~ str ~ ")",
                "' at '", 'green_loan_share.month_label',
                "', balance share '", "cast(green_loan_share.share as " ~ str ~ ")",
                "case when green_loan_share.share >= criteria.threshold then ' >= ' else ' < ' end",
                "cast(criteria.threshold as " ~ str ~ ")",
                "coalesce(" ~ dbt.concat(["' (GICG2019 categories '", 'green_loan_share.categories', "')'"]) ~ ", '')"]) }}
        end as evidence,
        case when green_loan_share.unmapped_loan_count > 0 then 'green_loan_category' end as missing_input
    from green_loan_share
    inner join criteria on criteria.criterion_code = 'green_loan_share'

    union all

    select
        industry_match.credit_code,
        industry_match.year,
        'green_industry',
        case when industry_match.industry_code is not null then industry_match.industry_code_prefix is not null end,
        case
            when industry_match.industry_code is null then 'no industry code in the registry'
            when industry_match.industry_code_prefix is null
                then {{ dbt.concat(["'industry '", 'industry_match.industry_code', "' not in a green category'"]) }}
            else {{ dbt.concat(["'industry '", 'industry_match.industry_code', "' in GICG2019 category '",
                                'industry_match.gicg2019_category_code', "' (prefix '",
                                'industry_match.industry_code_prefix', "')'"]) }}
        end,
        case when industry_match.industry_code is null then 'industry_code' end
    from industry_match
    where industry_match.prefix_rank = 1

    union all

    select
        enterprise_years.credit_code,
        enterprise_years.year,
        'carbon_efficiency',
        carbon.carbon_efficiency_grade <= criteria.threshold,
        case
            when carbon.carbon_efficiency_grade is null
                then {{ dbt.concat(["'no carbon-efficiency grade for '", "cast(enterprise_years.year as " ~ str ~ ")"]) }}
            else {{ dbt.concat(["'carbon grade '", "cast(carbon.carbon_efficiency_grade as " ~ str ~ ")",
                                "' ('", "cast(enterprise_years.year as " ~ str ~ ")", "')'",
                                "case when carbon.carbon_efficiency_grade <= criteria.threshold then ' <= ' else ' > ' end",
                                "cast(cast(criteria.threshold as integer) as " ~ str ~ ")"]) }}
        end,
        case when carbon.carbon_efficiency_grade is null then 'carbon_efficiency_grade' end
    from enterprise_years
    inner join criteria on criteria.criterion_code = 'carbon_efficiency'
    left join carbon
        on carbon.credit_code = enterprise_years.credit_code
        and carbon.year = enterprise_years.year

    union all

    select
        enterprise_years.credit_code,
        enterprise_years.year,
        'no_environmental_penalty',
        case when penalty_years.year is not null then penalty_counts.penalty_count is null end,
        case
            when penalty_years.year is null
                then {{ dbt.concat(["'no environmental penalty list for '", "cast(enterprise_years.year as " ~ str ~ ")"]) }}
            when penalty_counts.penalty_count is null
                then {{ dbt.concat(["'no environmental penalty decided in '", "cast(enterprise_years.year as " ~ str ~ ")"]) }}
            else {{ dbt.concat(["'environmental penalties '", "cast(penalty_counts.penalty_count as " ~ str ~ ")",
                                "' in '", "cast(enterprise_years.year as " ~ str ~ ")", "': '", 'penalty_counts.decisions']) }}
        end,
        case when penalty_years.year is null then 'environmental_penalties' end
    from enterprise_years
    left join penalty_years on penalty_years.year = enterprise_years.year
    left join penalty_counts
        on penalty_counts.credit_code = enterprise_years.credit_code
        and penalty_counts.year = enterprise_years.year

    union all

    select
        enterprise_years.credit_code,
        enterprise_years.year,
        'green_bond',
        bonds_outstanding.bond_count is not null,
        case
            when bonds_outstanding.bond_count is null
                then {{ dbt.concat(["'no green bond outstanding in '", "cast(enterprise_years.year as " ~ str ~ ")"]) }}
            else {{ dbt.concat(["'green bonds outstanding '", "cast(bonds_outstanding.bond_count as " ~ str ~ ")",
                                "': '", 'bonds_outstanding.bonds']) }}
        end,
        cast(null as {{ str }})
    from enterprise_years
    left join bonds_outstanding
        on bonds_outstanding.credit_code = enterprise_years.credit_code
        and bonds_outstanding.year = enterprise_years.year

),

final as (

    select
        facts.credit_code,
        facts.year,
        criteria.criterion_seq,
        facts.criterion_code,
        facts.is_met,
        cast(case when facts.is_met then criteria.points when not facts.is_met then 0 end as decimal(9, 2))
            as points_awarded,
        cast(criteria.points as decimal(9, 2)) as points_available,
        facts.evidence,
        facts.missing_input,
        greatest(year_loads.loaded_at, bond_loads.loaded_at, register_loads.loaded_at) as inputs_loaded_at
    from facts
    inner join criteria on criteria.criterion_code = facts.criterion_code
    left join year_loads on year_loads.year = facts.year
    left join bond_loads on bond_loads.year = facts.year
    cross join register_loads

)

select * from final
