-- The lake's own figures of each local financial organisation and month, computed from the contract-level
-- exposures (sheet 客户明细 of the monthly return), to be set against the return's self-reported figures
-- (sheet 主要指标) in fct_local_finance_ratios_monthly.
--   largest client   max over clients (client_id) of Σ outstanding of all its contracts
--   largest group    max over groups of Σ outstanding, a group being the client's related group (group_id, the
--                    parent's code) or the client alone without one: coalesce(group_id, client_id), so a parent
--                    that is itself a client falls into its own group (Decree 683 art. 16; small-loan 2025 rules:
--                    "同一借款人及其关联方")
--   pawn balances    Σ outstanding by exposure_type 财产权利质押典当 / 房地产抵押典当 (典当管理办法 art. 38)
--   clients          distinct client_id, and those flagged small/micro or agriculture (the share behind the raised
--                    15× guarantee leverage of Decree 683 art. 15)

{{ config(**incremental_by_period('report_month', inputs=[
    ['stg_local_finance__exposures', 'report_month', '_loaded_at']])) }}

with

exposures as (

    select * from {{ ref('stg_local_finance__exposures') }}
    where {{ periods_to_rebuild('report_month') }}

),

by_client as (

    select
        org_code,
        report_month,
        client_id,
        sum(outstanding_yuan) as client_balance_yuan,
        max(case when is_small_micro_agri then 1 else 0 end) as is_small_micro_agri_client
    from exposures
    group by org_code, report_month, client_id

),

by_group as (

    select
        org_code,
        report_month,
        coalesce(group_id, client_id) as group_key,
        sum(outstanding_yuan) as group_balance_yuan
    from exposures
    group by org_code, report_month, coalesce(group_id, client_id)

),

client_totals as (

    select
        org_code,
        report_month,
        max(client_balance_yuan) as largest_client_balance_yuan,
        count(*) as client_count,
        sum(is_small_micro_agri_client) as small_micro_agri_client_count
    from by_client
    group by org_code, report_month

),

group_totals as (

    select org_code, report_month, max(group_balance_yuan) as largest_group_balance_yuan
    from by_group
    group by org_code, report_month

),

org_totals as (

    select
        org_code,
        report_month,
        sum(outstanding_yuan) as business_balance_yuan,
        coalesce(sum(case when exposure_type = '财产权利质押典当' then outstanding_yuan end), 0)
            as property_rights_pawn_balance_yuan,
        coalesce(sum(case when exposure_type = '房地产抵押典当' then outstanding_yuan end), 0)
            as real_estate_pawn_balance_yuan,
        max(_loaded_at) as inputs_loaded_at
    from exposures
    group by org_code, report_month

),

final as (

    select
        org_totals.org_code,
        org_totals.report_month,
        cast(org_totals.business_balance_yuan as decimal(20, 2)) as business_balance_yuan,
        cast(client_totals.largest_client_balance_yuan as decimal(20, 2)) as largest_client_balance_yuan,
        cast(group_totals.largest_group_balance_yuan as decimal(20, 2)) as largest_group_balance_yuan,
        cast(org_totals.property_rights_pawn_balance_yuan as decimal(20, 2)) as property_rights_pawn_balance_yuan,
        cast(org_totals.real_estate_pawn_balance_yuan as decimal(20, 2)) as real_estate_pawn_balance_yuan,
        cast(client_totals.client_count as bigint) as client_count,
        cast(client_totals.small_micro_agri_client_count as bigint) as small_micro_agri_client_count,
        org_totals.inputs_loaded_at
    from org_totals
    inner join client_totals
        on client_totals.org_code = org_totals.org_code and client_totals.report_month = org_totals.report_month
    inner join group_totals
        on group_totals.org_code = org_totals.org_code and group_totals.report_month = org_totals.report_month

)

select * from final
