-- Who referred whom according to referral codes in CRM records: the referrer of a person is the
-- (resolved) owner of the code the person was referred with. One referrer per person: when a
-- person carries several codes, the smallest referrer key wins (deterministic). The referral
-- happened when the CRM record carrying that code was created: referred_at is the time of the
-- earliest such record's touchpoint (matched on source file and row; null if none was loaded).
with links as (
    select * from {{ ref('stg_lake__identity_links') }}
),

identity_map as (
    select * from {{ ref('stg_lake__identity_map') }}
),

touchpoints as (
    select source_file, source_row, occurred_at from {{ ref('int_touchpoints_resolved') }}
),

resolved as (
    select
        coalesce(identity_map.person_key, links.person_key) as person_key,
        links.linked_key as code_key,
        links.linked_kind,
        links.source_file,
        links.source_row
    from links
    left join identity_map on links.person_key = identity_map.alias_key
    where links.linked_kind in ('referral_code', 'referred_by')
),

owners as (
    select code_key, min(person_key) as owner_person_key
    from resolved
    where linked_kind = 'referral_code'
    group by code_key
),

candidates as (
    select
        referred.person_key,
        owners.owner_person_key as referrer_person_key,
        referred.source_file,
        referred.source_row
    from resolved as referred
    inner join owners on referred.code_key = owners.code_key
    where referred.linked_kind = 'referred_by'
        and owners.owner_person_key != referred.person_key
),

chosen as (
    select person_key, min(referrer_person_key) as referrer_person_key
    from candidates
    group by person_key
),

final as (
    select
        chosen.person_key,
        chosen.referrer_person_key,
        min(touchpoints.occurred_at) as referred_at
    from chosen
    inner join candidates
        on chosen.person_key = candidates.person_key
        and chosen.referrer_person_key = candidates.referrer_person_key
    left join touchpoints
        on candidates.source_file = touchpoints.source_file
        and candidates.source_row = touchpoints.source_row
    group by chosen.person_key, chosen.referrer_person_key
)

select * from final
