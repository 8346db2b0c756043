-- 绿贷通 service by bank: per posting month and claiming bank, the demands it claimed, how many it served within
-- the platform's promise (respond in 1 day, serve in 3, decide in 9 from posting: ../shared/reference/domain-methods.md
-- "绿贷通 loan matching" [C], days in seed loan_matching_parameters; each claim judged in int_loan_matching__claims),
-- its decisions, approvals and the credit it granted.
--   *_on_time_rate      claims within the promise ÷ claims whose promise can be judged (met or missed); claims
--                       that cannot be judged yet are counted in undetermined_claim_count and named in
--                       missing_inputs (the timestamp the lake lacks), never counted as met or missed
--   approval_rate       授信 ÷ decided claims (授信 + 拒绝 + 撤回); null when none decided
-- Kept by posting month, as its input int_loan_matching__claims is (a demand's claims may be delivered the next month).

{{ config(**incremental_by_period('post_month', inputs=[
    ['int_loan_matching__claims', 'post_month', 'inputs_loaded_at']])) }}

with

claims as (

    select * from {{ ref('int_loan_matching__claims') }}
    where {{ periods_to_rebuild('post_month') }}

),

grouped as (

    select
        post_month,
        bank_code,
        max(bank_name) as bank_name,
        count(*) as claims,
        sum(case when not is_within_claim_limit then 1 else 0 end) as claims_beyond_limit,
        sum(case when is_response_promise_met then 1 else 0 end) as response_met,
        sum(case when is_response_promise_met is not null then 1 else 0 end) as response_judged,
        sum(case when is_service_promise_met then 1 else 0 end) as service_met,
        sum(case when is_service_promise_met is not null then 1 else 0 end) as service_judged,
        sum(case when is_decision_promise_met then 1 else 0 end) as decision_met,
        sum(case when is_decision_promise_met is not null then 1 else 0 end) as decision_judged,
        sum(case when is_service_promise_met is null then 1 else 0 end) as service_undetermined,
        sum(case when is_decision_promise_met is null then 1 else 0 end) as decision_undetermined,
        sum(case when missing_inputs is not null then 1 else 0 end) as undetermined,
        sum(case when decision is not null then 1 else 0 end) as decided,
        sum(case when decision = '授信' then 1 else 0 end) as approvals,
        sum(case when decision = '授信' then approved_amount_yuan else 0 end) as approved_amount_yuan,
        max(inputs_loaded_at) as inputs_loaded_at
    from claims
    group by post_month, bank_code

),

final as (

    select
        post_month,
        bank_code,
        bank_name,
        cast(claims as integer) as claim_count,
        cast(claims_beyond_limit as integer) as claims_beyond_limit_count,
        cast(response_met as integer) as response_on_time_count,
        cast(service_met as integer) as service_on_time_count,
        cast(decision_met as integer) as decision_on_time_count,
        cast(case when response_judged > 0 then 1.0 * response_met / response_judged end as decimal(9, 6))
            as response_on_time_rate,
        cast(case when service_judged > 0 then 1.0 * service_met / service_judged end as decimal(9, 6))
            as service_on_time_rate,
        cast(case when decision_judged > 0 then 1.0 * decision_met / decision_judged end as decimal(9, 6))
            as decision_on_time_rate,
        cast(undetermined as integer) as undetermined_claim_count,
        cast(decided as integer) as decided_count,
        cast(approvals as integer) as approval_count,
        cast(case when decided > 0 then 1.0 * approvals / decided end as decimal(9, 6)) as approval_rate,
        cast(approved_amount_yuan as decimal(20, 2)) as approved_amount_yuan,
        case
            when service_undetermined > 0 and decision_undetermined > 0 then 'contacted_at,decided_at'
            when service_undetermined > 0 then 'contacted_at'
            when decision_undetermined > 0 then 'decided_at'
        end as missing_inputs,
        max(inputs_loaded_at) over (partition by post_month) as inputs_loaded_at
    from grouped

)

select * from final
