{#- Seed rule of green_category_carbon_benefit: every first-level category of the Green Industry Guidance
    Catalogue (2019), 1-6, has a benefit type. A row here names the first-level category that has none. -#}
with first_levels as (
    select '1' as gicg2019_category_code union all select '2' union all select '3'
    union all select '4' union all select '5' union all select '6'
)

select first_levels.gicg2019_category_code as missing_first_level_category
from first_levels
left join {{ ref('green_category_carbon_benefit') }} as seed
    on seed.gicg2019_category_code = first_levels.gicg2019_category_code
    and seed.category_level = 1
where seed.gicg2019_category_code is null
