-- 绿贷通 rule (../shared/reference/domain-methods.md [C]): at most the first max_claiming_banks (3, seed
-- loan_matching_parameters) banks may claim a financing demand. The matching mart keeps every claim and flags the
-- demand; this test reports each demand claimed by more banks (a data-quality breach, never silently dropped).
select
    matching.post_month,
    matching.demand_id,
    matching.claim_count,
    matching.claimed_bank_codes,
    parameters.value as max_claiming_banks
from {{ ref('fct_financing_demand_matching') }} as matching
cross join (
    select value from {{ ref('loan_matching_parameters') }} where parameter = 'max_claiming_banks'
) as parameters
where matching.claim_count > parameters.value
