{{ config(meta={"tested_by_period": {"inputs": [["stg_public__green_behaviours", "record_month", "_loaded_at"]]}}) }}
-- Every behaviour type and unit recorded in the green behaviours (stg_public__green_behaviours) has a row in the
-- carbon_account_factors seed. A failure lists the types without a row: their points would be null in
-- fct_personal_carbon_account_monthly (flagged in missing_inputs). Add the row, with its source, to the seed.
-- It reads the months with behaviours loaded since it last passed; an edited seed has it read every month again.
select distinct behaviours.behaviour_type, behaviours.unit
from {{ ref('stg_public__green_behaviours') }} as behaviours
left join {{ ref('carbon_account_factors') }} as factors
    on factors.behaviour_type = behaviours.behaviour_type
    and factors.unit = behaviours.unit
where factors.behaviour_type is null
    and {{ periods_to_test('behaviours.record_month') }}
