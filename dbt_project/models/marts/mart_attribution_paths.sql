-- Path summary: one row per period and transformed path (channels of its steps, ' > ' between
-- them): converting and non-converting journeys and the conversions' revenue. Conversions with
-- no eligible touchpoint have the path '(none)'. The Markov model (mart_attribution_markov) is
-- computed from this table. The journeys' paths are int_attribution_journey_paths (kept per
-- person); under the frequency transform each step is labelled with its number of touchpoints,
-- e.g. 'email(2) > paid_search(1)'.
with journeys as (
    select * from {{ ref('int_attribution_journey_paths') }}
),

conversions as (
    select * from {{ ref('int_attribution_conversions') }}
),

with_value as (
    select
        {{ dbt.date_trunc(var('attribution_period'), 'journeys.journey_end_at') }} as period_start,
        journeys.path,
        journeys.path_channels,
        journeys.is_conversion,
        coalesce(conversions.revenue_reporting, 0) as revenue_reporting
    from journeys
    left join conversions on journeys.journey_id = conversions.conversion_id
    union all
    -- conversions without an eligible touchpoint
    select
        conversions.conversion_period,
        '(none)',
        {{ empty_string_list() }},
        true,
        conversions.revenue_reporting
    from conversions
    where not exists (select 1 from journeys where journeys.journey_id = conversions.conversion_id)
),

final as (
    select
        period_start,
        path,
        any_value(path_channels) as path_channels,
        {{ list_length('any_value(path_channels)') }} as step_count,
        count(*) filter (where is_conversion) as conversions,
        count(*) filter (where not is_conversion) as non_conversions,
        coalesce({{ exact_sum('case when is_conversion then revenue_reporting end') }}, 0) as revenue_reporting
    from with_value
    group by period_start, path
)

select * from final
