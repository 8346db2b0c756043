-- Invariant of the ESG score (issue 6 "every score's contributions add up to its total"): for every firm-year with a
-- total, the indicators' contributions in int_esg__indicator_scores_yearly add up to total_score within 0.01, and
-- the effective weights of the scored indicators add up to 1 (within rounding: 6 places × at most 30 indicators).
-- Returns the firm-years that break it.
with

contributions as (

    select
        credit_code,
        year,
        sum(contribution) as contribution_sum,
        sum(effective_weight) as effective_weight_sum
    from {{ ref('int_esg__indicator_scores_yearly') }}
    group by credit_code, year

)

select
    scores.credit_code,
    scores.year,
    scores.total_score,
    contributions.contribution_sum,
    contributions.effective_weight_sum
from {{ ref('fct_esg_score_yearly') }} as scores
left join contributions
    on contributions.credit_code = scores.credit_code
    and contributions.year = scores.year
where scores.total_score is not null
    and (contributions.contribution_sum is null
         or abs(contributions.contribution_sum - scores.total_score) > 0.01
         or abs(contributions.effective_weight_sum - 1) > 0.00003)
