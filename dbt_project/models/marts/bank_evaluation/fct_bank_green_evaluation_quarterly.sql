-- The green-finance evaluation of banks (《银行业金融机构绿色金融评价方案》, PBoC 银发〔2021〕142号;
-- ../shared/reference/domain-methods.md "Evaluations and scores"), per evaluated bank and quarter:
--   indicator score    each of the four indicators of int_bank_evaluation__indicators_quarterly turned into 0-100
--                      by the sub-score function of seed parameter scoring_method [U] (macro
--                      bank_evaluation_sub_score: min_max or percentile among the evaluated banks of the quarter;
--                      the risk ratio reversed, lower is better); with own_history_share h > 0 [S]:
--                      (1 − h) × peer score + h × own-history score (min-max within the bank's own values of the
--                      last own_history_quarters quarters and this one)
--   quantitative       Σ weight × indicator score, weights 25 % each [C] (seed bank_green_evaluation_parameters)
--   qualitative        policy implementation (30) + own rules (40) + support for green industries (30) [C], from
--                      seed bank_green_evaluation_qualitative (demo values; the PBoC branch's assessment in a real
--                      deployment); a bank and quarter without a row is listed in missing_inputs, not scored 0
--   total              80 % quantitative + 20 % qualitative [C]; evaluation_rank = dense rank of the total within
--                      the quarter, 1 = best; no total and no rank when an input is missing
-- Kept as a table: scores compare each bank with all evaluated banks of the quarter and with its own and the
-- year-before quarters, and the parameters and the qualitative table are seeds: recomputing it whole is what keeps
-- every quarter consistent, and it is small (banks × quarters).

with

parameters as (

    select * from {{ ref('bank_green_evaluation_parameters') }}

),

indicators as (

    select * from {{ ref('int_bank_evaluation__indicators_quarterly') }}

),

qualitative as (

    select * from {{ ref('bank_green_evaluation_qualitative') }}

),

own_history as (

    select
        indicators.bank_code,
        indicators.quarter_end_month,
        min(earlier.green_business_share) as own_min_business_share,
        max(earlier.green_business_share) as own_max_business_share,
        min(earlier.green_market_share) as own_min_market_share,
        max(earlier.green_market_share) as own_max_market_share,
        min(earlier.green_growth_yoy) as own_min_growth_yoy,
        max(earlier.green_growth_yoy) as own_max_growth_yoy,
        min(earlier.green_risk_ratio) as own_min_risk_ratio,
        max(earlier.green_risk_ratio) as own_max_risk_ratio
    from indicators
    cross join parameters
    inner join indicators as earlier
        on earlier.bank_code = indicators.bank_code
        and {{ dbt.datediff('earlier.quarter_end_month', 'indicators.quarter_end_month', 'month') }}
            between 0 and 3 * parameters.own_history_quarters
    group by indicators.bank_code, indicators.quarter_end_month

),

peer_scores as (

    select
        indicators.*,
        parameters.scoring_method,
        parameters.own_history_share,
        {{ bank_evaluation_sub_score('indicators.green_business_share', 'parameters.scoring_method',
                                     'indicators.quarter_end_month') }} as peer_business_share,
        {{ bank_evaluation_sub_score('indicators.green_market_share', 'parameters.scoring_method',
                                     'indicators.quarter_end_month') }} as peer_market_share,
        {{ bank_evaluation_sub_score('indicators.green_growth_yoy', 'parameters.scoring_method',
                                     'indicators.quarter_end_month') }} as peer_growth_yoy,
        {{ bank_evaluation_sub_score('indicators.green_risk_ratio', 'parameters.scoring_method',
                                     'indicators.quarter_end_month', lower_is_better=true) }} as peer_risk_ratio,
        {{ bank_evaluation_own_history_score('indicators.green_business_share', 'own_history.own_min_business_share',
                                             'own_history.own_max_business_share') }} as own_business_share,
        {{ bank_evaluation_own_history_score('indicators.green_market_share', 'own_history.own_min_market_share',
                                             'own_history.own_max_market_share') }} as own_market_share,
        {{ bank_evaluation_own_history_score('indicators.green_growth_yoy', 'own_history.own_min_growth_yoy',
                                             'own_history.own_max_growth_yoy') }} as own_growth_yoy,
        {{ bank_evaluation_own_history_score('indicators.green_risk_ratio', 'own_history.own_min_risk_ratio',
                                             'own_history.own_max_risk_ratio', lower_is_better=true) }}
            as own_risk_ratio
    from indicators
    cross join parameters
    left join own_history
        on own_history.bank_code = indicators.bank_code
        and own_history.quarter_end_month = indicators.quarter_end_month

),

{%- set indicator_names = ['business_share', 'market_share', 'growth_yoy', 'risk_ratio'] %}

indicator_scores as (

    select
        peer_scores.*,
        {%- for name in indicator_names %}
        cast(round(case
            when peer_scores.own_history_share = 0 then peer_scores.peer_{{ name }}
            else (1 - cast(peer_scores.own_history_share as double)) * peer_scores.peer_{{ name }}
                 + cast(peer_scores.own_history_share as double) * peer_scores.own_{{ name }}
        end, 4) as decimal(9, 4)) as score_green_{{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from peer_scores

),

scored as (

    select
        indicator_scores.*,
        cast(round(
            parameters.weight_green_business_share * indicator_scores.score_green_business_share
            + parameters.weight_green_market_share * indicator_scores.score_green_market_share
            + parameters.weight_green_growth_yoy * indicator_scores.score_green_growth_yoy
            + parameters.weight_green_risk_ratio * indicator_scores.score_green_risk_ratio, 4) as decimal(9, 4))
            as quantitative_score,
        qualitative.policy_implementation_score,
        qualitative.own_rules_score,
        qualitative.green_industry_support_score,
        cast(qualitative.policy_implementation_score + qualitative.own_rules_score
             + qualitative.green_industry_support_score as decimal(9, 4)) as qualitative_score,
        parameters.weight_quantitative,
        parameters.weight_qualitative
    from indicator_scores
    cross join parameters
    left join qualitative
        on qualitative.bank_code = indicator_scores.bank_code
        and qualitative.quarter_end_month = indicator_scores.quarter_end_month

),

totals as (

    select
        scored.*,
        cast(round(weight_quantitative * quantitative_score + weight_qualitative * qualitative_score, 4)
             as decimal(9, 4)) as total_score,
        nullif(concat_ws(',',
            missing_inputs,
            case when qualitative_score is null then 'qualitative_assessment' end
        ), '') as all_missing_inputs
    from scored

),

final as (

    select
        quarter_end_month,
        {{ dbt.concat(["cast(extract(year from quarter_end_month) as " ~ dbt.type_string() ~ ")", "'Q'",
                       "cast(cast(extract(month from quarter_end_month) / 3 as integer) as " ~ dbt.type_string() ~ ")"]) }}
            as quarter,
        bank_code,
        bank_name,
        green_loan_yuan,
        green_bond_yuan,
        green_business_yuan,
        total_business_yuan,
        green_npl_loan_yuan,
        green_business_year_before_yuan,
        green_business_share,
        green_market_share,
        green_growth_yoy,
        green_risk_ratio,
        scoring_method,
        score_green_business_share,
        score_green_market_share,
        score_green_growth_yoy,
        score_green_risk_ratio,
        quantitative_score,
        policy_implementation_score,
        own_rules_score,
        green_industry_support_score,
        qualitative_score,
        total_score,
        cast(case
            when total_score is not null
                then dense_rank() over (partition by quarter_end_month order by total_score desc nulls last)
        end as integer) as evaluation_rank,
        all_missing_inputs as missing_inputs,
        inputs_loaded_at
    from totals

)

select * from final
