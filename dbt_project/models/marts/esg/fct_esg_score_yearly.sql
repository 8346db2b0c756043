-- Enterprise ESG score (企业ESG评价) per enterprise and year: E, S and G sub-scores, the total on 0-100 and its grade,
-- after the Huzhou ESG evaluation of financing entities (../shared/reference/domain-methods.md "Huzhou ESG
-- evaluation" [C] E/S/G dimensions using tax and environmental-penalty data; [U] weights and bands: seeds/esg).
--   sub-score(dim) = Σ over the dimension's indicators present (w ÷ Σ w present) × score
--   total          = Σ over dimensions present (W ÷ Σ W present) × sub-score = Σ contributions
--                    (int_esg__indicator_scores_yearly), given only when score_weight_covered >= the seed's
--                    min_score_weight_covered; else null, with missing_inputs naming the gaps
--   grade          = the band of esg_grade_bands with the highest min_score <= total
-- Kept year by year (macro incremental_by_period): a year is recomputed when its indicator scores are (which follow
-- every input of the year and the registers every year reads), and every year when the registry (names, industry,
-- district) has new rows. inputs_loaded_at is the scores' (which includes the registry's newest load).

{{ config(**incremental_by_period('year', inputs=[
    ['int_esg__indicator_scores_yearly', 'year', 'inputs_loaded_at'],
    ['stg_enterprise__registries', none, '_loaded_at']])) }}

with

scores as (

    select * from {{ ref('int_esg__indicator_scores_yearly') }}
    where {{ periods_to_rebuild('year') }}

),

enterprises as (

    select credit_code, enterprise_name, industry_code, district_code
    from {{ ref('stg_enterprise__registries') }}

),

params as (

    select
        max(case when parameter = 'min_score_weight_covered' then value end) as min_score_weight_covered,
        max(case when parameter = 'esg_bond_min_score' then value end) as esg_bond_min_score
    from {{ ref('esg_parameters') }}

),

grade_bands as (

    select grade, min_score,
        -- a band holds the totals from its min_score up to (not including) the next better band's min_score
        lag(min_score) over (order by grade_seq) as better_min_score
    from {{ ref('esg_grade_bands') }}

),

by_dimension as (

    select
        credit_code,
        year,
        dimension,
        sum(case when score is not null then indicator_weight end) as weight_present,
        sum(case when score is not null then indicator_weight * score end) as weighted_scores
    from scores
    group by credit_code, year, dimension

),

sub_scores as (

    select
        credit_code,
        year,
        max(case when dimension = 'E' and weight_present > 0
            then cast(round(cast(weighted_scores as decimal(38, 18)) / weight_present, 2) as decimal(5, 2)) end)
            as e_score,
        max(case when dimension = 'S' and weight_present > 0
            then cast(round(cast(weighted_scores as decimal(38, 18)) / weight_present, 2) as decimal(5, 2)) end)
            as s_score,
        max(case when dimension = 'G' and weight_present > 0
            then cast(round(cast(weighted_scores as decimal(38, 18)) / weight_present, 2) as decimal(5, 2)) end)
            as g_score
    from by_dimension
    group by credit_code, year

),

totals as (

    select
        credit_code,
        year,
        sum(contribution) as contribution_sum,
        cast(coalesce(sum(case when score is not null then model_weight end), 0) as decimal(9, 6))
            as score_weight_covered,
        cast(sum(case when score is not null then 1 else 0 end) as integer) as indicators_scored,
        cast(count(*) as integer) as indicators_in_model,
        max(inputs_loaded_at) as inputs_loaded_at
    from scores
    group by credit_code, year

),

-- the gaps, aggregated over the rows that have one: an ordered aggregate over every indicator row (nulls included)
-- ran out of DuckDB's 5.8 GiB at scale 1 (4 million rows); over the 1.2 million with a gap it takes under a second
gaps as (

    select
        credit_code,
        year,
        {{ dbt.listagg("concat(indicator_code, ': ', missing_input)", "', '", "order by indicator_code") }}
            as missing_inputs
    from scores
    where missing_input is not null
    group by credit_code, year

),

final as (

    select
        totals.credit_code,
        enterprises.enterprise_name,
        enterprises.industry_code,
        enterprises.district_code,
        totals.year,
        sub_scores.e_score,
        sub_scores.s_score,
        sub_scores.g_score,
        case when totals.score_weight_covered >= params.min_score_weight_covered
            then cast(round(totals.contribution_sum, 2) as decimal(5, 2))
        end as total_score,
        grade_bands.grade as esg_grade,
        case when totals.score_weight_covered >= params.min_score_weight_covered
            then round(totals.contribution_sum, 2) >= params.esg_bond_min_score
        end as meets_esg_bond_threshold,
        totals.score_weight_covered,
        totals.indicators_scored,
        totals.indicators_in_model,
        gaps.missing_inputs,
        totals.inputs_loaded_at
    from totals
    cross join params
    inner join sub_scores
        on sub_scores.credit_code = totals.credit_code
        and sub_scores.year = totals.year
    left join enterprises
        on enterprises.credit_code = totals.credit_code
    left join gaps
        on gaps.credit_code = totals.credit_code
        and gaps.year = totals.year
    left join grade_bands
        on totals.score_weight_covered >= params.min_score_weight_covered
        and round(totals.contribution_sum, 2) >= grade_bands.min_score
        and (grade_bands.better_min_score is null or round(totals.contribution_sum, 2) < grade_bands.better_min_score)

)

select * from final
