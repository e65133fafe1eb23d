{{ config(meta={'dagster': {'ref': {'name': 'mart_channel_performance'}}}) }}
-- DESIGN.md invariant: under each model the attributed revenue equals the revenue of the
-- conversions it covers (all conversions), in mart_channel_attribution and in both breakdowns
-- of mart_channel_performance.
with conversion_revenue as (
    select coalesce(sum(revenue_reporting), 0) as revenue, count(*) as conversions
    from {{ ref('int_attribution_conversions') }}
),

attribution as (
    select 'mart_channel_attribution' as source, attribution_model,
        sum(attributed_revenue_reporting) as revenue, sum(credit) as conversions
    from {{ ref('mart_channel_attribution') }}
    group by attribution_model
),

performance as (
    select 'mart_channel_performance/' || breakdown as source, attribution_model,
        sum(attributed_revenue_reporting) as revenue, sum(attributed_conversions) as conversions
    from {{ ref('mart_channel_performance') }}
    group by breakdown, attribution_model
),

totals as (
    select * from attribution
    union all
    select * from performance
)

select totals.*, conversion_revenue.revenue as expected_revenue, conversion_revenue.conversions as expected_conversions
from totals
cross join conversion_revenue
where abs(totals.revenue - conversion_revenue.revenue) > 1e-6 * greatest(1, conversion_revenue.revenue)
    or abs(totals.conversions - conversion_revenue.conversions) > 1e-6 * greatest(1, conversion_revenue.conversions)
