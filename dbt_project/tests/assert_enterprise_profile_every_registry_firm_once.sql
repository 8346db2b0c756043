-- dim_enterprise holds every enterprise of stg_enterprise__registries exactly once, and nothing else.
-- Returns the credit codes missing from the profile, duplicated in it, or not in the registry.

with

registry as (

    select credit_code from {{ ref('stg_enterprise__registries') }}

),

profile as (

    select credit_code, count(*) as profile_rows
    from {{ ref('dim_enterprise') }}
    group by credit_code

)

select
    coalesce(registry.credit_code, profile.credit_code) as credit_code,
    coalesce(profile.profile_rows, 0) as profile_rows,
    (registry.credit_code is not null) as is_in_registry
from registry
full outer join profile on profile.credit_code = registry.credit_code
where registry.credit_code is null or profile.credit_code is null or profile.profile_rows <> 1
