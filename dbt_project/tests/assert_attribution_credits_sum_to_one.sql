{{ config(meta={'dagster': {'ref': {'name': 'mart_channel_attribution'}}}) }}
-- DESIGN.md invariant: the credits of one conversion sum to 1 under each model, and every
-- conversion is credited under every configured model.
with credits as (
    select * from {{ ref('mart_channel_attribution') }}
),

conversions as (
    select * from {{ ref('int_attribution_conversions') }}
),

models as (
    {%- for name in attribution_models() %}
    select '{{ name }}' as attribution_model{% if not loop.last %} union all{% endif %}
    {%- endfor %}
),

sums as (
    select conversion_id, attribution_model, sum(credit) as total_credit
    from credits
    group by conversion_id, attribution_model
)

select conversions.conversion_id, models.attribution_model, sums.total_credit
from conversions
cross join models
left join sums
    on sums.conversion_id = conversions.conversion_id
    and sums.attribution_model = models.attribution_model
where sums.total_credit is null or abs(sums.total_credit - 1) > 1e-9
