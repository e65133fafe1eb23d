-- Who referred whom according to referral codes in CRM records: the referrer of a person is the
-- (resolved) owner of the code the person was referred with. One referrer per person: when a
-- person carries several codes, the smallest referrer key wins (deterministic).
with links as (
    select * from {{ ref('stg_lake__identity_links') }}
),

identity_map as (
    select * from {{ ref('stg_lake__identity_map') }}
),

resolved as (
    select
        coalesce(identity_map.person_key, links.person_key) as person_key,
        links.linked_key as code_key,
        links.linked_kind
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

final as (
    select
        referred.person_key,
        min(owners.owner_person_key) as referrer_person_key
    from resolved as referred
    inner join owners on referred.code_key = owners.code_key
    where referred.linked_kind = 'referred_by'
        and owners.owner_person_key != referred.person_key
    group by referred.person_key
)

select * from final
