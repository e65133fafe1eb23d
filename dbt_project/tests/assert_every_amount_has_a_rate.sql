-- Every purchase amount converts to the reporting currency: a currency or a day missing from
-- seeds/currency_rates.csv fails here instead of vanishing from revenue totals.
select touchpoint_id, currency, occurred_at
from {{ ref('int_touchpoints_staged') }}
where revenue is not null and revenue_reporting is null
