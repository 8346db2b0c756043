-- Guarantee-chain contagion and each bank's exposure to the chain, per report month, chain (its root: a firm in
-- default that month, i.e. a loan 次级 / 可疑 / 损失 or more than risk_parameters.default_days_overdue days overdue;
-- loan five-category rule 2023, ../shared/reference/domain-methods.md [S]), linked firm and bank.
-- Members and hop distances from int_risk__guarantee_chain_members_monthly (guarantor ↔ debtor links of the
-- contracts in force at month end, within risk_parameters.contagion_max_hops links, cycles cut). Exposure: the
-- outstanding loan balance of each member at each bank at month end (stg_bank__loans, any borrower type, by
-- borrower_id = the member's unified social credit code); a member with no loan outstanding has one row with
-- bank_code null and balance 0. Chain totals per bank: bank_chain_exposure_yuan (all members, root included) and
-- bank_contagion_exposure_yuan (linked firms only, hop >= 1: the exposure the contagion adds).
-- Kept month by month with the loan months.

{%- set chain_months = [['int_risk__loan_signals_monthly', 'report_month', 'inputs_loaded_at']] %}
{{ config(**incremental_by_period('report_month', inputs=chain_months, not_watched=[
    'int_risk__guarantee_chain_members_monthly', 'stg_bank__loans', 'stg_enterprise__registries', 'stg_bank__institutions'])) }}

with

members as (

    select * from {{ ref('int_risk__guarantee_chain_members_monthly') }}
    where {{ periods_to_rebuild('report_month') }}

),

loans as (

    select report_month, borrower_id, bank_code, sum(balance_yuan) as balance_yuan
    from {{ ref('stg_bank__loans') }}
    where report_month in (select report_month from members)
        and borrower_id in (select member_credit_code from members)
    group by report_month, borrower_id, bank_code

),

chains as (

    select
        report_month,
        chain_root_credit_code,
        sum(case when hop_distance >= 1 then 1 else 0 end) as linked_firm_count,
        max(hop_distance) as chain_max_hop_distance
    from members
    group by report_month, chain_root_credit_code

),

member_banks as (

    select
        members.report_month,
        members.chain_root_credit_code,
        members.member_credit_code,
        members.hop_distance,
        members.guarantee_path,
        loans.bank_code,
        coalesce(loans.balance_yuan, 0) as member_balance_yuan,
        members.inputs_loaded_at
    from members
    left join loans
        on loans.report_month = members.report_month
        and loans.borrower_id = members.member_credit_code

),

with_totals as (

    select
        member_banks.*,
        sum(member_balance_yuan) over (
            partition by report_month, chain_root_credit_code, bank_code
        ) as bank_chain_exposure_yuan,
        sum(case when hop_distance >= 1 then member_balance_yuan else 0 end) over (
            partition by report_month, chain_root_credit_code, bank_code
        ) as bank_contagion_exposure_yuan
    from member_banks

),

final as (

    select
        with_totals.report_month,
        with_totals.chain_root_credit_code,
        roots.enterprise_name as chain_root_name,
        with_totals.member_credit_code,
        member_names.enterprise_name as member_name,
        with_totals.hop_distance,
        with_totals.guarantee_path,
        cast(chains.linked_firm_count as bigint) as chain_linked_firm_count,
        cast(chains.chain_max_hop_distance as integer) as chain_max_hop_distance,
        cast({{ risk_parameter('contagion_max_hops') }} as integer) as contagion_max_hops,
        with_totals.bank_code,
        institutions.institution_name as bank_name,
        cast(with_totals.member_balance_yuan as decimal(20, 2)) as member_balance_yuan,
        cast(case when with_totals.bank_code is null then 0 else with_totals.bank_chain_exposure_yuan end
             as decimal(20, 2)) as bank_chain_exposure_yuan,
        cast(case when with_totals.bank_code is null then 0 else with_totals.bank_contagion_exposure_yuan end
             as decimal(20, 2)) as bank_contagion_exposure_yuan,
        with_totals.inputs_loaded_at
    from with_totals
    inner join chains
        on chains.report_month = with_totals.report_month
        and chains.chain_root_credit_code = with_totals.chain_root_credit_code
    left join {{ ref('stg_enterprise__registries') }} as roots
        on roots.credit_code = with_totals.chain_root_credit_code
    left join {{ ref('stg_enterprise__registries') }} as member_names
        on member_names.credit_code = with_totals.member_credit_code
    left join {{ ref('stg_bank__institutions') }} as institutions
        on institutions.institution_code = with_totals.bank_code

)

select * from final
