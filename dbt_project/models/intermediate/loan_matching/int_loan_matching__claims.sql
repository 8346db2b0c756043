-- 绿贷通 claims: one row per financing demand and claiming bank, with the bank's times against the platform's service
-- promise (../shared/reference/domain-methods.md "绿贷通 loan matching" [C]: respond (claim) within 1 day, serve
-- (contact the firm) within 3 days, decide within 9 days, all counted from the demand's posting; the days are
-- seed loan_matching_parameters). At most the first 3 banks may claim a demand: claim_seq numbers the claims in the
-- order they were made and is_within_claim_limit marks the first max_claiming_banks; a 4th claim is kept (and
-- fails the test assert_loan_matching_claims_within_limit), never silently dropped.
--   response_days / service_days / decision_days   (claimed_at / contacted_at / decided_at − posted_at) in days
--   is_*_promise_met   true when the time is within the promise; false when it is later, or when the step had not
--                      happened by the response delivery's dump (observed_until, the 10th of the month after the
--                      claim month: stg_enterprise__financing_responses holds "what happened by the dump") and the
--                      dump is past the promise; null (and the timestamp named in missing_inputs) when it is not.
-- Kept by the demand's posting month (post_month): a demand posted late in a month is often claimed in the next
-- month, so the claims delivered for month M (response_month) rebuild the posting months M and M − 1 (the platform
-- claims within days of posting; a claim more than a month after posting is read whenever its posting month is
-- rebuilt, but its delivery alone does not trigger that rebuild).

{%- set responses_previous_month = 'cast(' ~ dbt.dateadd('month', -1, 'response_month') ~ ' as date)' %}
{{ config(**incremental_by_period('post_month', inputs=[
    ['stg_enterprise__financing_demands', 'post_month', '_loaded_at'],
    ['stg_enterprise__financing_responses', 'response_month', '_loaded_at'],
    ['stg_enterprise__financing_responses', responses_previous_month, '_loaded_at']])) }}

with

demands as (

    select demand_id, credit_code, post_month, posted_at, _loaded_at
    from {{ ref('stg_enterprise__financing_demands') }}
    where {{ periods_to_rebuild('post_month') }}

),

-- the claims of the demands being rebuilt, whatever month they were delivered in
responses as (

    select
        demand_id,
        institution_code,
        institution_name,
        response_month,
        claimed_at,
        contacted_at,
        decided_at,
        decision,
        approved_amount_yuan,
        _loaded_at
    from {{ ref('stg_enterprise__financing_responses') }}
    where demand_id in (select demand_id from demands)

),

parameters as (

    select
        max(case when parameter = 'response_promise_days' then value end) as response_promise_days,
        max(case when parameter = 'service_promise_days' then value end) as service_promise_days,
        max(case when parameter = 'decision_promise_days' then value end) as decision_promise_days,
        max(case when parameter = 'max_claiming_banks' then value end) as max_claiming_banks
    from {{ ref('loan_matching_parameters') }}

),

timed as (

    select
        demands.post_month,
        demands.demand_id,
        demands.credit_code,
        demands.posted_at,
        responses.institution_code as bank_code,
        responses.institution_name as bank_name,
        row_number() over (
            partition by demands.demand_id order by responses.claimed_at, responses.institution_code
        ) as claim_seq,
        responses.claimed_at,
        responses.contacted_at,
        responses.decided_at,
        responses.decision,
        responses.approved_amount_yuan,
        cast({{ dbt.dateadd('day', 9, dbt.dateadd('month', 1, 'responses.response_month')) }} as timestamp)
            as observed_until,
        {{ dbt.datediff('demands.posted_at', 'responses.claimed_at', 'second') }} as response_seconds,
        {{ dbt.datediff('demands.posted_at', 'responses.contacted_at', 'second') }} as service_seconds,
        {{ dbt.datediff('demands.posted_at', 'responses.decided_at', 'second') }} as decision_seconds,
        {{ dbt.datediff('demands.posted_at',
                        'cast(' ~ dbt.dateadd('day', 9, dbt.dateadd('month', 1, 'responses.response_month')) ~ ' as timestamp)',
                        'second') }} as observed_seconds,
        case
            when responses._loaded_at > demands._loaded_at then responses._loaded_at
            else demands._loaded_at
        end as row_loaded_at
    from demands
    inner join responses on responses.demand_id = demands.demand_id

),

judged as (

    select
        timed.*,
        timed.claim_seq <= parameters.max_claiming_banks as is_within_claim_limit,
        case
            when timed.response_seconds is not null
                then timed.response_seconds <= parameters.response_promise_days * 86400
        end as is_response_promise_met,
        case
            when timed.service_seconds is not null
                then timed.service_seconds <= parameters.service_promise_days * 86400
            when timed.observed_seconds > parameters.service_promise_days * 86400 then false
        end as is_service_promise_met,
        case
            when timed.decision_seconds is not null
                then timed.decision_seconds <= parameters.decision_promise_days * 86400
            when timed.observed_seconds > parameters.decision_promise_days * 86400 then false
        end as is_decision_promise_met
    from timed
    cross join parameters

),

final as (

    select
        post_month,
        demand_id,
        credit_code,
        bank_code,
        bank_name,
        cast(claim_seq as integer) as claim_seq,
        is_within_claim_limit,
        posted_at,
        claimed_at,
        contacted_at,
        decided_at,
        observed_until,
        decision,
        approved_amount_yuan,
        cast(response_seconds / 86400.0 as decimal(9, 2)) as response_days,
        cast(service_seconds / 86400.0 as decimal(9, 2)) as service_days,
        cast(decision_seconds / 86400.0 as decimal(9, 2)) as decision_days,
        is_response_promise_met,
        is_service_promise_met,
        is_decision_promise_met,
        case
            when is_service_promise_met is null and is_decision_promise_met is null then 'contacted_at,decided_at'
            when is_service_promise_met is null then 'contacted_at'
            when is_decision_promise_met is null then 'decided_at'
        end as missing_inputs,
        max(row_loaded_at) over (partition by post_month) as inputs_loaded_at
    from judged

)

select * from final
