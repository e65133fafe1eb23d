-- What each channel and campaign earned and cost, per period (var attribution_period) and
-- attribution model. Conversions and revenue are the credits of mart_channel_attribution (from
-- the shop's own orders, never the platforms' self-reported conversions); spend is the platforms'
-- reported spend (fct_ad_spend) of the same period, matched on channel and campaign id. Two
-- breakdowns: 'channel' rows (campaign_id null) and 'campaign' rows ('(none)' for touchpoints
-- without a campaign id); each breakdown adds up to the same totals. Spend repeats on every model's
-- row: filter one model before summing spend.
{%- set period = var('attribution_period') %}
with credits as (
    select * from {{ ref('mart_channel_attribution') }}
),

spend as (
    select * from {{ ref('fct_ad_spend') }}
),

models as (
    {%- for name in attribution_models() %}
    select '{{ name }}' as attribution_model{% if not loop.last %} union all{% endif %}
    {%- endfor %}
),

credit_totals as (
    {%- for breakdown in ['channel', 'campaign'] %}
    select
        conversion_period as period_start,
        attribution_model,
        '{{ breakdown }}' as breakdown,
        channel,
        {%- if breakdown == 'campaign' %}
        coalesce(campaign_id, '(none)') as campaign_id,
        {%- else %}
        cast(null as {{ string_type() }}) as campaign_id,
        {%- endif %}
        {%- if breakdown == 'campaign' %}
        {{ any_value_not_null('campaign_name') }} as touchpoint_campaign_name,
        {%- else %}
        cast(null as {{ string_type() }}) as touchpoint_campaign_name,
        {%- endif %}
        {{ exact_sum('credit') }} as attributed_conversions,
        {{ exact_sum("case when conversion_kind = 'first' then credit end") }} as attributed_first_conversions,
        {{ exact_sum('attributed_revenue_reporting') }} as attributed_revenue_reporting
    from credits
    group by all
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

spend_totals as (
    {%- for breakdown in ['channel', 'campaign'] %}
    select
        {{ dbt.date_trunc(period, 'cast(spend_date as timestamp)') }} as period_start,
        models.attribution_model,
        '{{ breakdown }}' as breakdown,
        spend.channel,
        {%- if breakdown == 'campaign' %}
        spend.campaign_id,
        {%- else %}
        cast(null as {{ string_type() }}) as campaign_id,
        {%- endif %}
        {%- if breakdown == 'campaign' %}
        {{ any_value_not_null('spend.campaign_name') }} as platform_campaign_name,
        {%- else %}
        cast(null as {{ string_type() }}) as platform_campaign_name,
        {%- endif %}
        {{ exact_sum('spend.spend_reporting') }} as spend_reporting,
        sum(spend.impressions) as impressions,
        sum(spend.clicks) as clicks
    from spend
    cross join models
    group by all
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

joined as (
    select
        coalesce(credit_totals.period_start, spend_totals.period_start) as period_start,
        coalesce(credit_totals.attribution_model, spend_totals.attribution_model) as attribution_model,
        coalesce(credit_totals.breakdown, spend_totals.breakdown) as breakdown,
        coalesce(credit_totals.channel, spend_totals.channel) as channel,
        coalesce(credit_totals.campaign_id, spend_totals.campaign_id) as campaign_id,
        coalesce(spend_totals.platform_campaign_name, credit_totals.touchpoint_campaign_name) as campaign_name,
        coalesce(credit_totals.attributed_conversions, 0) as attributed_conversions,
        coalesce(credit_totals.attributed_first_conversions, 0) as attributed_first_conversions,
        coalesce(credit_totals.attributed_revenue_reporting, 0) as attributed_revenue_reporting,
        coalesce(spend_totals.spend_reporting, 0) as spend_reporting,
        coalesce(spend_totals.impressions, 0) as impressions,
        coalesce(spend_totals.clicks, 0) as clicks
    from credit_totals
    full outer join spend_totals
        on credit_totals.period_start = spend_totals.period_start
        and credit_totals.attribution_model = spend_totals.attribution_model
        and credit_totals.breakdown = spend_totals.breakdown
        and credit_totals.channel = spend_totals.channel
        and credit_totals.campaign_id is not distinct from spend_totals.campaign_id
),

final as (
    select
        *,
        {{ ratio('attributed_revenue_reporting', 'spend_reporting') }} as roas,
        {{ ratio('nullif(spend_reporting, 0)', 'attributed_conversions') }} as cost_per_conversion,
        {{ ratio('nullif(spend_reporting, 0)', 'attributed_first_conversions') }} as customer_acquisition_cost
    from joined
)

select * from final
