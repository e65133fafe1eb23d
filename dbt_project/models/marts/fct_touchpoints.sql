-- The touchpoint fact table analysts query: canonical columns only (contract enforced).
with touchpoints as (
    select * from {{ ref('int_touchpoints_deduplicated') }}
),

final as (
    select
        touchpoint_id,
        person_key,
        occurred_at,
        source_family,
        source_system,
        channel,
        touchpoint_type,
        journey_stage,
        need,
        campaign_id,
        campaign_name,
        utm_source,
        utm_medium,
        utm_campaign,
        utm_content,
        utm_term,
        click_id,
        landing_page,
        revenue,
        currency,
        score,
        score_scale,
        referrer_person_key,
        source_file,
        source_row,
        ingested_at,
        batch_id
    from touchpoints
)

select * from final
