-- Resolved identities: a key that belongs to a larger person -> that person's key.
with source as (
    select * from {{ source('lake', 'identity_map') }}
),

renamed as (
    select
        alias_key,
        person_key
    from source
)

select * from renamed
