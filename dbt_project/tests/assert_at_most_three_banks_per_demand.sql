-- 绿贷通 rule: at most the first three banks that claim a financing demand may contact the firm.
-- A rule across rows (and across monthly deliveries), so it is checked here rather than at ingestion.
-- Returns each demand claimed by more than three institutions.
select
    demand_id,
    count(distinct institution_code) as institutions
from {{ ref('stg_enterprise__financing_responses') }}
group by demand_id
having count(distinct institution_code) > 3
