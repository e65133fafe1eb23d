-- Identifiers and referral codes seen together on one source record.
with source as (
    select * from {{ source('lake', 'identity_links') }}
),

renamed as (
    select
        person_key,
        person_key_kind,
        linked_key,
        linked_kind,
        source_system,
        source_file,
        cast(source_row as bigint) as source_row
    from source
)

select * from renamed
