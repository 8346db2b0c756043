{#- Seed rule of plan_direct_financing_types: every financing type delivered in stg_enterprise__direct_financings is
    listed (counted as the plan's direct financing or not), so no type is left out silently. A row here names the
    unlisted type. -#}
select distinct financings.financing_type as unlisted_financing_type
from {{ ref('stg_enterprise__direct_financings') }} as financings
left join {{ ref('plan_direct_financing_types') }} as types
    on types.financing_type = financings.financing_type
where types.financing_type is null
