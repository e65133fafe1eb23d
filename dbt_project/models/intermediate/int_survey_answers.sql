{{ config(
    materialized='incremental',
    unique_key='person_key',
    changed_keys='inc_changed_people',
) }}
-- depends_on: {{ ref('inc_changed_people') }}
-- One row per scored survey answer with what the respondent's own journey up to the answer says:
-- the furthest journey stage of their earlier touchpoints and the channel of the latest one (survey
-- answers themselves excluded; null when there is none). mart_survey_scores aggregates these.
-- Incremental: only the people of inc_changed_people (an answer's context is its person's own
-- touchpoints).
with touchpoints as {{ inlined() }} (
    select touchpoint_id, person_key, occurred_at, touchpoint_type, score, score_scale, campaign_name, funnel_stage_order, channel
    from {{ ref('int_touchpoints_staged') }}
    {{ changed_keys_only() }}
),

stages as (
    select * from {{ ref('journey_stages') }}
),

answers as (
    select touchpoint_id, person_key, occurred_at, score, score_scale, campaign_name as touchpoint_asked
    from touchpoints
    where touchpoint_type = 'survey_response' and score is not null
),

context as (
    select
        answers.touchpoint_id,
        max(earlier_touch.funnel_stage_order) as stage_order_at_response,
        {{ last_row(['earlier_touch.occurred_at', 'earlier_touch.touchpoint_id'], ['earlier_touch.channel']) }} as last_touch
    from answers
    inner join touchpoints as earlier_touch
        on earlier_touch.person_key = answers.person_key
        and earlier_touch.occurred_at <= answers.occurred_at
        and earlier_touch.touchpoint_type <> 'survey_response'
    group by answers.touchpoint_id
),

final as (
    select
        answers.*,
        stages.journey_stage as stage_at_response,
        context.last_touch.channel as last_touch_channel
    from answers
    left join context on answers.touchpoint_id = context.touchpoint_id
    left join stages on context.stage_order_at_response = stages.stage_order
)

select * from final
