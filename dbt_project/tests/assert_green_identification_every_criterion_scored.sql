-- Every enterprise-year of the green identification is scored on every enterprise criterion of the seed, once:
-- returns the enterprise-years with a criterion missing or extra (an empty result passes).
with

expected as (

    select count(*) as criteria_count
    from {{ ref('green_identification_criteria') }}
    where subject = 'enterprise'

),

scored as (

    select credit_code, year, count(*) as criteria_count, count(distinct criterion_code) as distinct_criteria
    from {{ ref('int_green_identification__enterprise_criteria_yearly') }}
    group by credit_code, year

)

select scored.*
from scored
cross join expected
where scored.criteria_count <> expected.criteria_count or scored.distinct_criteria <> expected.criteria_count
