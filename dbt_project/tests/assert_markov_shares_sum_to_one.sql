{{ config(enabled=target.type != 'spark') }}
-- The Markov removal-effect shares of a period sum to 1 (when anything converted), so the
-- period's attributed conversions equal its conversions.
select period_start, sum(removal_effect_share) as total_share, sum(attributed_conversions) as attributed, any_value(conversions) as conversions
from {{ ref('mart_attribution_markov') }}
group by period_start
having any_value(conversions) > 0
    and (abs(sum(removal_effect_share) - 1) > 1e-9 or abs(sum(attributed_conversions) - any_value(conversions)) > 1e-6)
