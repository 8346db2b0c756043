-- 绿贷通 loan matching, one row per financing demand (loans, guarantees and equity): which banks' products the demand is
-- eligible for, which banks claimed it, the first response / contact / decision against the service promise, the
-- outcome, and for a matched loan the ESG-linked rate discount and interest subsidy it is entitled to.
-- Platform rules: ../shared/reference/domain-methods.md "绿贷通 loan matching" [C] (at most the first 3 banks claim;
-- respond in 1 day, serve in 3, decide in 9: seed loan_matching_parameters). Products: seed bank_loan_products (a
-- demo catalogue [U]). ESG grade and green level: fct_esg_score_yearly.esg_grade and
-- fct_green_enterprise_identification_yearly.identification_level of the year esg_score_year_lag before the posting year.
--   product eligible      same product_type; min_amount <= amount asked <= max_amount; term asked <= max_term (no
--                         limit when either is empty); the firm's GB/T 4754 section (first letter of its registry
--                         industry_code) in industry_sections (or no restriction); ESG grade rank <= the rank of
--                         min_esg_grade; green level rank <= the rank of required_green_level. A criterion that needs
--                         an input the lake lacks (industry, ESG grade, green level) cannot be judged: the counts
--                         are then null and missing_inputs names the input (never a silent "not eligible").
--   rate discount (bp)    loan_matching_esg_rate_discounts of the firm's ESG grade [U]
--   interest subsidy      least(subsidy_cap_yuan, interest_subsidy_share × entitled amount × (reference_annual_rate −
--                         discount)), one year's interest; loan_matching_green_subsidies of the firm's green level [U];
--                         entitled amount = least(credit approved by all banks, amount asked): a firm is subsidised on
--                         no more than it asked for.
-- Kept by posting month; a month is rebuilt when its demands or their claims (int_loan_matching__claims, itself
-- rebuilt when later months deliver the claims) are (re)loaded. Registry, ESG scores, green levels and the seeds
-- are reference inputs, not watched: after they change, rebuild with --full-refresh.

{{ config(**incremental_by_period('post_month', inputs=[
    ['stg_enterprise__financing_demands', 'post_month', '_loaded_at'],
    ['int_loan_matching__claims', 'post_month', 'inputs_loaded_at']],
    not_watched=['stg_enterprise__registries', 'fct_esg_score_yearly', 'fct_green_enterprise_identification_yearly'])) }}

with

demands as (

    select
        demand_id,
        credit_code,
        post_month,
        posted_at,
        product_type,
        amount_yuan,
        term_months,
        is_green,
        status,
        _loaded_at
    from {{ ref('stg_enterprise__financing_demands') }}
    where {{ periods_to_rebuild('post_month') }}

),

claims as (

    select * from {{ ref('int_loan_matching__claims') }}
    where {{ periods_to_rebuild('post_month') }}

),

parameters as (

    select
        max(case when parameter = 'response_promise_days' then value end) as response_promise_days,
        max(case when parameter = 'service_promise_days' then value end) as service_promise_days,
        max(case when parameter = 'decision_promise_days' then value end) as decision_promise_days,
        max(case when parameter = 'max_claiming_banks' then value end) as max_claiming_banks,
        max(case when parameter = 'esg_score_year_lag' then value end) as esg_score_year_lag,
        max(case when parameter = 'reference_annual_rate' then value end) as reference_annual_rate
    from {{ ref('loan_matching_parameters') }}

),

registries as (

    select credit_code, industry_code from {{ ref('stg_enterprise__registries') }}

),

esg_grades as (

    select
        esg.credit_code,
        esg.year,
        esg.esg_grade,
        discounts.grade_rank,
        discounts.rate_discount_bp
    from {{ ref('fct_esg_score_yearly') }} as esg
    inner join {{ ref('loan_matching_esg_rate_discounts') }} as discounts on discounts.esg_grade = esg.esg_grade

),

green_levels as (

    select
        green.credit_code,
        green.year,
        green.identification_level as green_level,
        subsidies.level_rank,
        subsidies.interest_subsidy_share,
        subsidies.subsidy_cap_yuan
    from {{ ref('fct_green_enterprise_identification_yearly') }} as green
    inner join {{ ref('loan_matching_green_subsidies') }} as subsidies on subsidies.green_level = green.identification_level

),

products as (

    select
        products.*,
        discounts.grade_rank as min_grade_rank,
        subsidies.level_rank as required_level_rank
    from {{ ref('bank_loan_products') }} as products
    left join {{ ref('loan_matching_esg_rate_discounts') }} as discounts
        on discounts.esg_grade = products.min_esg_grade
    left join {{ ref('loan_matching_green_subsidies') }} as subsidies
        on subsidies.green_level = products.required_green_level

),

-- the firm's facts the eligibility and the benefits need (null when the lake lacks them)
demand_facts as (

    select
        demands.*,
        substring(registries.industry_code, 1, 1) as industry_section,
        esg_grades.esg_grade,
        esg_grades.grade_rank,
        esg_grades.rate_discount_bp,
        green_levels.green_level,
        green_levels.level_rank,
        green_levels.interest_subsidy_share,
        green_levels.subsidy_cap_yuan
    from demands
    cross join parameters
    left join registries on registries.credit_code = demands.credit_code
    left join esg_grades
        on esg_grades.credit_code = demands.credit_code
        and esg_grades.year = extract(year from demands.post_month) - parameters.esg_score_year_lag
    left join green_levels
        on green_levels.credit_code = demands.credit_code
        and green_levels.year = extract(year from demands.post_month) - parameters.esg_score_year_lag

),

-- demand × product of the same kind: true eligible, false not, null cannot be judged (an input missing)
product_checks as (

    select
        demand_facts.demand_id,
        products.product_code,
        products.bank_code,
        products.guarantee_modes,
        case
            when demand_facts.amount_yuan < products.min_amount_yuan
                or demand_facts.amount_yuan > products.max_amount_yuan then false
            when demand_facts.term_months is not null and products.max_term_months is not null
                and demand_facts.term_months > products.max_term_months then false
            when products.industry_sections is not null and demand_facts.industry_section is not null
                and {{ dbt.position(dbt.concat(["'|'", 'demand_facts.industry_section', "'|'"]),
                                    'products.industry_sections') }} = 0 then false
            when products.min_grade_rank is not null and demand_facts.grade_rank > products.min_grade_rank then false
            when products.required_level_rank is not null
                and demand_facts.level_rank > products.required_level_rank then false
            when products.industry_sections is not null and demand_facts.industry_section is null then null
            when products.min_grade_rank is not null and demand_facts.grade_rank is null then null
            when products.required_level_rank is not null and demand_facts.level_rank is null then null
            else true
        end as is_eligible
    from demand_facts
    inner join products on products.product_type = demand_facts.product_type

),

eligibility as (

    select
        demand_id,
        sum(case when is_eligible then 1 else 0 end) as eligible_products,
        sum(case when is_eligible and guarantee_modes like '%信用%' then 1 else 0 end) as eligible_unsecured_products,
        sum(case when is_eligible is null then 1 else 0 end) as undetermined_products
    from product_checks
    group by demand_id

),

eligible_banks as (

    select demand_id, bank_code
    from product_checks
    where is_eligible
    group by demand_id, bank_code

),

eligible_bank_lists as (

    select
        demand_id,
        count(*) as eligible_banks,
        {{ dbt.listagg('bank_code', "','", 'order by bank_code') }} as eligible_bank_codes
    from eligible_banks
    group by demand_id

),

claim_summary as (

    select
        claims.demand_id,
        count(*) as claims,
        {{ dbt.listagg('claims.bank_code', "','", 'order by claims.claim_seq') }} as claimed_bank_codes,
        sum(case when eligible_banks.bank_code is not null then 1 else 0 end) as claims_by_eligible_banks,
        min(claims.claimed_at) as first_claimed_at,
        min(claims.contacted_at) as first_contacted_at,
        min(claims.decided_at) as first_decided_at,
        max(claims.observed_until) as observed_until,
        sum(case when claims.decision = '授信' then 1 else 0 end) as approvals,
        sum(case when claims.decision is null then 1 else 0 end) as pending,
        sum(case when claims.decision = '拒绝' then 1 else 0 end) as refusals,
        sum(case when claims.decision = '授信' then claims.approved_amount_yuan end) as approved_amount_yuan,
        max(claims.inputs_loaded_at) as claims_loaded_at
    from claims
    left join eligible_banks
        on eligible_banks.demand_id = claims.demand_id
        and eligible_banks.bank_code = claims.bank_code
    group by claims.demand_id

),

joined as (

    select
        demand_facts.*,
        parameters.response_promise_days,
        parameters.service_promise_days,
        parameters.decision_promise_days,
        parameters.max_claiming_banks,
        parameters.reference_annual_rate,
        eligibility.eligible_products,
        eligibility.eligible_unsecured_products,
        coalesce(eligibility.undetermined_products, 0) as undetermined_products,
        coalesce(eligible_bank_lists.eligible_banks, 0) as eligible_banks,
        eligible_bank_lists.eligible_bank_codes,
        coalesce(claim_summary.claims, 0) as claims,
        claim_summary.claimed_bank_codes,
        coalesce(claim_summary.claims_by_eligible_banks, 0) as claims_by_eligible_banks,
        claim_summary.first_claimed_at,
        claim_summary.first_contacted_at,
        claim_summary.first_decided_at,
        coalesce(claim_summary.approvals, 0) as approvals,
        coalesce(claim_summary.pending, 0) as pending,
        coalesce(claim_summary.refusals, 0) as refusals,
        claim_summary.approved_amount_yuan,
        -- the demand's status is as of its delivery's dump, the 10th of the month after posting; claims may say more
        case
            when claim_summary.observed_until
                > cast({{ dbt.dateadd('day', 9, dbt.dateadd('month', 1, 'demand_facts.post_month')) }} as timestamp)
                then claim_summary.observed_until
            else cast({{ dbt.dateadd('day', 9, dbt.dateadd('month', 1, 'demand_facts.post_month')) }} as timestamp)
        end as observed_until,
        -- a status that says a bank claimed the demand while the lake holds no claim: responses not delivered
        (demand_facts.status <> '待对接' and claim_summary.demand_id is null) as is_responses_missing,
        {{ dbt.datediff('demand_facts.posted_at', 'claim_summary.first_claimed_at', 'second') }} as response_seconds,
        {{ dbt.datediff('demand_facts.posted_at', 'claim_summary.first_contacted_at', 'second') }} as service_seconds,
        {{ dbt.datediff('demand_facts.posted_at', 'claim_summary.first_decided_at', 'second') }} as decision_seconds,
        case
            when claim_summary.claims_loaded_at > demand_facts._loaded_at then claim_summary.claims_loaded_at
            else demand_facts._loaded_at
        end as row_loaded_at
    from demand_facts
    cross join parameters
    left join eligibility on eligibility.demand_id = demand_facts.demand_id
    left join eligible_bank_lists on eligible_bank_lists.demand_id = demand_facts.demand_id
    left join claim_summary on claim_summary.demand_id = demand_facts.demand_id

),

judged as (

    select
        joined.*,
        {{ dbt.datediff('joined.posted_at', 'joined.observed_until', 'second') }} as observed_seconds,
        (joined.product_type = '贷款' and joined.approvals > 0) as is_matched_loan,
        case
            when joined.approved_amount_yuan is null then null
            when joined.approved_amount_yuan < joined.amount_yuan then joined.approved_amount_yuan
            else joined.amount_yuan
        end as entitled_amount_yuan
    from joined

),

final as (

    select
        post_month,
        demand_id,
        credit_code,
        posted_at,
        product_type,
        amount_yuan,
        term_months,
        is_green,
        industry_section,
        esg_grade,
        green_level,
        cast(case when undetermined_products = 0 then coalesce(eligible_products, 0) end as integer)
            as eligible_product_count,
        cast(case when undetermined_products = 0 then coalesce(eligible_unsecured_products, 0) end as integer)
            as eligible_unsecured_product_count,
        cast(case when undetermined_products = 0 then eligible_banks end as integer) as eligible_bank_count,
        case when undetermined_products = 0 then eligible_bank_codes end as eligible_bank_codes,
        cast(claims as integer) as claim_count,
        claimed_bank_codes,
        cast(claims_by_eligible_banks as integer) as claims_by_eligible_bank_count,
        (claims > max_claiming_banks) as is_claim_limit_exceeded,
        first_claimed_at,
        first_contacted_at,
        first_decided_at,
        cast(response_seconds / 86400.0 as decimal(9, 2)) as first_response_days,
        cast(service_seconds / 86400.0 as decimal(9, 2)) as first_service_days,
        cast(decision_seconds / 86400.0 as decimal(9, 2)) as first_decision_days,
        case
            when response_seconds is not null then response_seconds <= response_promise_days * 86400
            when is_responses_missing then null
            when observed_seconds > response_promise_days * 86400 then false
        end as is_response_promise_met,
        case
            when service_seconds is not null then service_seconds <= service_promise_days * 86400
            when is_responses_missing then null
            when observed_seconds > service_promise_days * 86400 then false
        end as is_service_promise_met,
        case
            when decision_seconds is not null then decision_seconds <= decision_promise_days * 86400
            when is_responses_missing then null
            when observed_seconds > decision_promise_days * 86400 then false
        end as is_decision_promise_met,
        status as status_at_dump,
        case
            when is_responses_missing then status
            when claims = 0 then '待对接'
            when approvals > 0 then '已授信'
            when pending > 0 then '对接中'
            when refusals = claims then '未获授信'
            else '已撤回'
        end as outcome,
        cast(approvals as integer) as approval_count,
        cast(approved_amount_yuan as decimal(20, 2)) as approved_amount_yuan,
        is_matched_loan,
        cast(case when is_matched_loan then entitled_amount_yuan end as decimal(20, 2)) as entitled_amount_yuan,
        cast(case when is_matched_loan then rate_discount_bp end as decimal(9, 2)) as rate_discount_bp,
        cast(
            case
                when not is_matched_loan then null
                when rate_discount_bp is null or interest_subsidy_share is null then null
                when interest_subsidy_share * entitled_amount_yuan
                        * (reference_annual_rate - rate_discount_bp / 10000.0) > subsidy_cap_yuan
                    then subsidy_cap_yuan
                else interest_subsidy_share * entitled_amount_yuan * (reference_annual_rate - rate_discount_bp / 10000.0)
            end
        as decimal(20, 2)) as interest_subsidy_yuan,
        nullif({{ dbt.concat([
            "case when is_responses_missing then 'financing_responses,' else '' end",
            "case when industry_section is null then 'industry_code,' else '' end",
            "case when esg_grade is null then 'esg_grade,' else '' end",
            "case when green_level is null then 'green_level,' else '' end"
        ]) }}, '') as missing_inputs_raw,
        max(row_loaded_at) over (partition by post_month) as inputs_loaded_at
    from judged

)

select
    post_month,
    demand_id,
    credit_code,
    posted_at,
    product_type,
    amount_yuan,
    term_months,
    is_green,
    industry_section,
    esg_grade,
    green_level,
    eligible_product_count,
    eligible_unsecured_product_count,
    eligible_bank_count,
    eligible_bank_codes,
    claim_count,
    claimed_bank_codes,
    claims_by_eligible_bank_count,
    is_claim_limit_exceeded,
    first_claimed_at,
    first_contacted_at,
    first_decided_at,
    first_response_days,
    first_service_days,
    first_decision_days,
    is_response_promise_met,
    is_service_promise_met,
    is_decision_promise_met,
    status_at_dump,
    outcome,
    approval_count,
    approved_amount_yuan,
    is_matched_loan,
    entitled_amount_yuan,
    rate_discount_bp,
    interest_subsidy_yuan,
    case
        when missing_inputs_raw is null then null
        else substring(missing_inputs_raw, 1, length(missing_inputs_raw) - 1)
    end as missing_inputs,
    inputs_loaded_at
from final
