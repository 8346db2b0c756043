-- Score, weight and contribution of every ESG indicator for each enterprise and year, so that a loan officer can
-- see why a firm scores what it scores (Huzhou ESG evaluation of financing entities; domain-methods.md: [C] E/S/G
-- dimensions, [U] weights and bands, so every number is a parameter in seeds/esg).
-- Scoring rules (esg_indicators.scoring_rule), each indicator on 0-100:
--   linear      score = 100 × (raw − worst) ÷ (best − worst), clamped to 0..100 (best < worst: lower is better)
--   bands       the score of the band (lower_bound, upper_bound] holding raw (esg_scoring_bands; last band open)
--   categories  the score of the band whose category equals raw_label (e.g. tax credit rating A/B/M/C/D)
-- Missing data is scored explicitly: an indicator without a value (or with a value no band scores) is dropped and
-- the weights are renormalised over what is present — within its dimension (indicator weight ÷ the weight present
-- in the dimension), and a dimension with nothing present is dropped with the dimension weights renormalised:
--   effective_weight = (W_dim ÷ Σ W of dimensions present) × (w ÷ Σ w present in the dimension)
--   contribution     = effective_weight × score;  Σ contributions of a firm-year = its total score (0-100)
-- model_weight = W_dim × w is the indicator's weight in the full model; Σ over indicators present is the mart's
-- score_weight_covered.
-- Kept year by year (macro incremental_by_period) as the values it scores: a year is recomputed when its values are;
-- inputs_loaded_at is theirs. The seeds (indicators, weights, bands) are parameters: after changing one, run a
-- --full-refresh.

{{ config(**incremental_by_period('year', inputs=[
    ['int_esg__indicator_values_yearly', 'year', 'inputs_loaded_at']])) }}

with

indicator_values as (

    select * from {{ ref('int_esg__indicator_values_yearly') }}
    where {{ periods_to_rebuild('year') }}

),

indicators as (

    select indicator_code, indicator_name, weight, scoring_rule, worst_value, best_value
    from {{ ref('esg_indicators') }}

),

dimensions as (

    select dimension, weight from {{ ref('esg_dimension_weights') }}

),

-- each band with its exclusive lower bound (the previous band's upper bound): (lower_bound, upper_bound]
bands as (

    select
        indicator_code,
        category,
        score,
        lag(upper_bound) over (partition by indicator_code order by band_seq) as lower_bound,
        upper_bound
    from {{ ref('esg_scoring_bands') }}

),

scored as (

    select
        indicator_values.credit_code,
        indicator_values.year,
        indicator_values.dimension,
        indicator_values.indicator_code,
        indicators.indicator_name,
        indicators.scoring_rule,
        indicator_values.raw_value,
        indicator_values.raw_label,
        indicator_values.missing_input,
        indicator_values.inputs_loaded_at,
        case indicators.scoring_rule
            when 'linear' then
                case when indicator_values.raw_value is not null then
                    cast(round(greatest(0, least(100,
                        cast(indicator_values.raw_value - indicators.worst_value as decimal(38, 18)) * 100
                        / (indicators.best_value - indicators.worst_value))), 4) as decimal(9, 4))
                end
            when 'bands' then numeric_band.score
            when 'categories' then category_band.score
        end as score,
        cast(indicators.weight as decimal(9, 6)) as indicator_weight,
        cast(dimensions.weight as decimal(9, 6)) as dimension_weight
    from indicator_values
    inner join indicators on indicators.indicator_code = indicator_values.indicator_code
    inner join dimensions on dimensions.dimension = indicator_values.dimension
    left join bands as numeric_band
        on indicators.scoring_rule = 'bands'
        and numeric_band.indicator_code = indicator_values.indicator_code
        and indicator_values.raw_value is not null
        and (numeric_band.lower_bound is null or indicator_values.raw_value > numeric_band.lower_bound)
        and (numeric_band.upper_bound is null or indicator_values.raw_value <= numeric_band.upper_bound)
    left join bands as category_band
        on indicators.scoring_rule = 'categories'
        and category_band.indicator_code = indicator_values.indicator_code
        and category_band.category = indicator_values.raw_label

),

-- weight present per dimension, then the dimension weights present per firm-year: two aggregates joined back to
-- the indicators (credit_code, year and dimension are never null), where three windows over every indicator row
-- sorted 4 M rows each at scale 1
dimensions_present as (

    select
        credit_code,
        year,
        dimension,
        sum(case when score is not null then indicator_weight end) as dimension_weight_present,
        -- the dimension's weight if any of its indicators is scored: counted once per present dimension below
        max(case when score is not null then dimension_weight end) as weight_if_present
    from scored
    group by credit_code, year, dimension

),

firm_years_present as (

    select credit_code, year, sum(weight_if_present) as dimensions_weight_present
    from dimensions_present
    group by credit_code, year

),

present_in_total as (

    select
        scored.*,
        dimensions_present.dimension_weight_present,
        firm_years_present.dimensions_weight_present
    from scored
    inner join dimensions_present
        on dimensions_present.credit_code = scored.credit_code
        and dimensions_present.year = scored.year
        and dimensions_present.dimension = scored.dimension
    inner join firm_years_present
        on firm_years_present.credit_code = scored.credit_code
        and firm_years_present.year = scored.year

),

final as (

    select
        credit_code,
        year,
        dimension,
        indicator_code,
        indicator_name,
        scoring_rule,
        raw_value,
        raw_label,
        score,
        case
            when missing_input is not null then missing_input
            when score is null and raw_label is not null then concat('no score for value ', raw_label)
            when score is null then concat('no score for value ', cast(raw_value as {{ dbt.type_string() }}))
        end as missing_input,
        dimension_weight,
        indicator_weight,
        cast(dimension_weight * indicator_weight as decimal(9, 6)) as model_weight,
        case when score is not null
            then cast(round(cast(dimension_weight * indicator_weight as decimal(38, 18))
                            / (dimensions_weight_present * dimension_weight_present), 6) as decimal(9, 6))
        end as effective_weight,
        case when score is not null
            then cast(round(cast(dimension_weight * indicator_weight * score as decimal(38, 18))
                            / (dimensions_weight_present * dimension_weight_present), 4) as decimal(9, 4))
        end as contribution,
        inputs_loaded_at
    from present_in_total

)

select * from final
