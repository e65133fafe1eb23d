-- One row per normalized touchpoint as ingested (duplicates across re-delivered files included).
-- Person keys are as ingested (source_*); int_touchpoints_resolved applies identity resolution.
with source as (
    select * from {{ source('lake', 'touchpoints') }}
),

renamed as (
    select
        touchpoint_id,
        person_key as source_person_key,
        cast(occurred_at as timestamp) as occurred_at,
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
        cast(revenue as double) as revenue,
        currency,
        cast(score as double) as score,
        score_scale,
        referrer_person_key as source_referrer_person_key,
        {{ lineage_columns() }}
    from source
)

select * from renamed
