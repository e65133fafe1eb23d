-- Credit of each conversion to the touchpoints of its transformed path, under each model in
-- var attribution_models. One row per conversion x model x credited touchpoint (touchpoints a
-- model gives no credit have no row); a conversion with no eligible touchpoint gets one row per
-- model with channel 'unattributed' and credit 1. A step's credit is split equally between its
-- touchpoints. Definitions of the models in _attribution__models.yml.
{%- set models = attribution_models() %}
{%- set weights = var('attribution_position_weights') %}
{%- set known = ['first_touch', 'last_touch', 'last_non_direct', 'linear', 'position_based', 'time_decay', 'markov', 'shapley'] %}
{%- for name in models if name not in known %}
    {{ exceptions.raise_compiler_error("var attribution_models: unknown model '" ~ name ~ "' (expected one of " ~ known | join(', ') ~ ")") }}
{%- endfor %}
{%- if var('attribution_half_life_days') is not number or var('attribution_half_life_days') <= 0 %}
    {{ exceptions.raise_compiler_error("var attribution_half_life_days: a number of days > 0") }}
{%- endif %}
{%- if weights.first + weights.last > 1 or weights.first < 0 or weights.last < 0 %}
    {{ exceptions.raise_compiler_error("var attribution_position_weights: first and last must be >= 0 and add up to at most 1") }}
{%- endif %}
with paths as (
    select * from {{ ref('int_attribution_paths') }}
    where is_conversion
),

conversions as (
    select * from {{ ref('int_attribution_conversions') }}
),

{%- if 'markov' in models %}

removal_effects as (
    select * from {{ ref('mart_attribution_markov') }}
),
{%- endif %}

steps as (
    select
        paths.journey_id as conversion_id,
        paths.step_position,
        any_value(paths.step_count) as step_count,
        any_value(paths.channel) as channel,
        any_value(paths.step_at) as step_at,
        any_value(conversions.converted_at) as converted_at,
        any_value(conversions.conversion_period) as conversion_period
    from paths
    inner join conversions on paths.journey_id = conversions.conversion_id
    group by paths.journey_id, paths.step_position
),

step_facts as (
    select
        *,
        coalesce(
            max(case when channel not in {{ channel_list(var('attribution_direct_channels')) }} then step_position end)
                over (partition by conversion_id),
            step_count
        ) as last_non_direct_position,
        -- halves every half-life before the conversion; measured from the path's newest step, so that
        -- step weighs 1 and old paths cannot underflow to 0 / 0 (the normalised shares are the same)
        pow(0.5, ({{ dbt.datediff('step_at', 'converted_at', 'second') }}
                  - min({{ dbt.datediff('step_at', 'converted_at', 'second') }}) over (partition by conversion_id))
                 / {{ double_literal('86400.0') }} / {{ var('attribution_half_life_days') }}) as decay_weight,
        count(*) over (partition by conversion_id, channel) as channel_steps
    from steps
),

channel_facts as (
    select
        step_facts.*,
        {{ count_distinct_over('step_facts.channel', 'step_facts.conversion_id') }} as distinct_channels
        {%- if 'markov' in models %},
        removal_effects.removal_effect
        {%- endif %}
    from step_facts
    {%- if 'markov' in models %}
    left join removal_effects
        on removal_effects.period_start = step_facts.conversion_period
        and removal_effects.channel = step_facts.channel
    {%- endif %}
),

step_credits as (
    {%- for name in models %}
    select
        conversion_id,
        step_position,
        '{{ name }}' as attribution_model,
        {%- if name == 'first_touch' %}
        case when step_position = 1 then {{ double_literal('1.0') }} else {{ double_literal('0.0') }} end
        {%- elif name == 'last_touch' %}
        case when step_position = step_count then {{ double_literal('1.0') }} else {{ double_literal('0.0') }} end
        {%- elif name == 'last_non_direct' %}
        case when step_position = last_non_direct_position then {{ double_literal('1.0') }} else {{ double_literal('0.0') }} end
        {%- elif name == 'linear' %}
        {{ double_literal('1.0') }} / step_count
        {%- elif name == 'position_based' %}
        case
            when step_count = 1 then {{ double_literal('1.0') }}
            when step_count = 2 then {{ double_literal('0.5') }}
            when step_position = 1 then {{ double_literal(weights.first) }}
            when step_position = step_count then {{ double_literal(weights.last) }}
            else {{ double_literal('(1.0 - ' ~ weights.first ~ ' - ' ~ weights.last ~ ')') }} / (step_count - 2)
        end
        {%- elif name == 'time_decay' %}
        decay_weight / sum(decay_weight) over (partition by conversion_id)
        {%- elif name == 'shapley' %}
        {{ double_literal('1.0') }} / distinct_channels / channel_steps
        {%- elif name == 'markov' %}
        -- each distinct channel's share of the removal effects on this path, split between its steps
        (removal_effect / channel_steps)
            / sum(removal_effect / channel_steps) over (partition by conversion_id)
        {%- endif %} as step_credit
    from channel_facts
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

credited as (
    select
        step_credits.conversion_id,
        step_credits.attribution_model,
        paths.touchpoint_id,
        paths.occurred_at as touchpoint_at,
        paths.channel,
        paths.campaign_id,
        paths.campaign_name,
        paths.step_position,
        paths.step_count,
        step_credits.step_credit / paths.touches_in_step as credit
    from step_credits
    inner join paths
        on step_credits.conversion_id = paths.journey_id
        and step_credits.step_position = paths.step_position
    where step_credits.step_credit > 0
),

unattributed as (
    select
        conversions.conversion_id,
        models.attribution_model,
        cast(null as {{ string_type() }}) as touchpoint_id,
        cast(null as timestamp) as touchpoint_at,
        'unattributed' as channel,
        cast(null as {{ string_type() }}) as campaign_id,
        cast(null as {{ string_type() }}) as campaign_name,
        cast(null as bigint) as step_position,
        0 as step_count,
        1.0 as credit
    from conversions
    cross join (
        {%- for name in models %}
        select '{{ name }}' as attribution_model{% if not loop.last %} union all{% endif %}
        {%- endfor %}
    ) as models
    where not exists (select 1 from paths where paths.journey_id = conversions.conversion_id)
),

all_credits as (
    select * from credited
    union all
    select * from unattributed
),

final as (
    select
        all_credits.conversion_id,
        conversions.person_key,
        conversions.converted_at,
        conversions.conversion_period,
        conversions.conversion_type,
        conversions.conversion_kind,
        conversions.revenue_reporting as conversion_revenue_reporting,
        all_credits.attribution_model,
        all_credits.touchpoint_id,
        all_credits.touchpoint_at,
        all_credits.channel,
        all_credits.campaign_id,
        all_credits.campaign_name,
        all_credits.step_position,
        all_credits.step_count,
        all_credits.credit,
        all_credits.credit * conversions.revenue_reporting as attributed_revenue_reporting
    from all_credits
    inner join conversions on all_credits.conversion_id = conversions.conversion_id
)

select * from final
