"""Pseudonymous identity: keys per identifier, links between them, and their resolution.

Every identifier a record carries becomes a salted SHA-256 key in its own namespace: the
normalized email, the vendor's anonymous visitor id, a CRM contact id, an ad click id. A
record's `person_key` is its best identifier (email, else anonymous id, else contact id).
Referral codes are linked the same way (the code a person owns, the code they were referred
with) but never merged: they say who referred whom. Identifiers that appear on the same record are links (a click log row with a visitor id and the
gclid; a CRM contact with its email and the gclid captured on its form; a survey answer with the
contact id). `resolve` joins linked keys into one person (connected components, so chains of links
resolve too) and maps every key to one `person_key`: the smallest email key of the component, or
the smallest key when the component has no email.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import polars_hash  # noqa: F401  (registers the .chash namespace)
import scipy.sparse
import scipy.sparse.csgraph

KINDS = ("email", "anon", "contact", "click")  # identifiers, in order of preference for a record's own key
# Relations between people, linked the same way but never merged: the code a person owns and the
# code a person was referred with (the referrer is the owner of that code).
REFERRAL_KINDS = ("referral_code", "referred_by")
ALL_KINDS = (*KINDS, *REFERRAL_KINDS)


def sha(text: pl.Expr) -> pl.Expr:
    """Stable SHA-256 (polars-hash, identical across Polars versions), 128 bits as 32 hex chars."""
    return text.chash.sha2_256().str.slice(0, 32)


def key(kind: str, value: pl.Expr, salt: str, system: str | None = None) -> pl.Expr:
    namespace = f"{salt}|{kind}|" + (f"{system}|" if system else "")
    return sha(pl.concat_str([pl.lit(namespace), value]))


def key_column(kind: str) -> str:
    """The column a normalized frame holds a kind's key in while its rows and links are built."""
    return f"__key_{kind}"


def key_exprs(salt: str, contact_system: str | None) -> dict[str, pl.Expr]:
    """The key of each identifier column of a normalized frame (null where the value is)."""
    return {
        "email": key("email", pl.col("email"), salt),
        "anon": key("anon", pl.col("anonymous_id"), salt),
        "contact": key("contact", pl.col("contact_id"), salt, contact_system),
        "click": key("click", pl.col("click_id"), salt),
        "referral_code": key("referral", pl.col("referral_code"), salt),
        "referred_by": key("referral", pl.col("referred_by_code"), salt),
    }


def person_key(keys: dict[str, pl.Expr]) -> pl.Expr:
    return pl.coalesce(keys["email"], keys["anon"], keys["contact"])


def links(frame: pl.DataFrame, keys: dict[str, pl.Expr], per: str | None = None) -> pl.DataFrame:
    """(person_key, linked_key, linked_kind) for every other identifier on each record; distinct
    per value of the `per` column (kept) when given, as each part alone would give them."""
    index = ["person_key", "person_key_kind", "source_file", "source_row", *([per] if per else [])]
    long = frame.select(
        pl.col("person_key"),
        pl.col("person_key_kind"),
        *(expr.alias(kind) for kind, expr in keys.items()),
        *index[2:],
    ).unpivot(ALL_KINDS, index=index, variable_name="linked_kind", value_name="linked_key")  # kind by kind, each in the rows' order
    long = long.select("person_key", "person_key_kind", "linked_key", "linked_kind", *index[2:])
    out = long.filter(pl.col("linked_key").is_not_null() & (pl.col("linked_key") != pl.col("person_key")))
    return out.unique([*([per] if per else []), "person_key", "linked_key"], keep="first", maintain_order=True)


def resolve(link_rows: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """alias_key -> person_key for every key that belongs to a component with another key.

    Only the distinct (key, kind) edges are held: the link rows are scanned lazily (the streaming
    engine), keys become integer ids, and the connected components come from SciPy's graph search
    over a sparse matrix of those ids (no Python object per key)."""
    edges = (
        link_rows.lazy()
        .filter(pl.col("linked_kind").is_in(KINDS))
        .select("person_key", "person_key_kind", "linked_key", "linked_kind")
        .unique()
        .collect(engine="streaming")
    )
    if edges.height == 0:
        return pl.DataFrame(schema={"alias_key": pl.String, "person_key": pl.String})
    kinds = pl.concat([
        edges.select(pl.col("person_key").alias("key"), pl.col("person_key_kind").alias("kind")),
        edges.select(pl.col("linked_key").alias("key"), pl.col("linked_kind").alias("kind")),
    ]).unique("key", keep="first").with_row_index("id")
    ids = kinds.select("key", "id")
    pairs = (
        edges.select("person_key", "linked_key")
        .join(ids.rename({"key": "person_key", "id": "a"}), on="person_key")
        .join(ids.rename({"key": "linked_key", "id": "b"}), on="linked_key")
    )
    del edges
    n = kinds.height
    a, b = pairs["a"].to_numpy(), pairs["b"].to_numpy()
    graph = scipy.sparse.coo_array((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n)).tocsr()
    _, component = scipy.sparse.csgraph.connected_components(graph, directed=False)
    members = kinds.drop("id").with_columns(pl.Series("component", component))  # ids are row numbers
    rank = pl.col("kind").replace_strict({k: i for i, k in enumerate(KINDS)}, return_dtype=pl.Int32)
    canonical = (  # the smallest key of the component's most preferred kind
        members.with_columns(rank.alias("rank"))
        .group_by("component")
        .agg(pl.col("key").filter(pl.col("rank") == pl.col("rank").min()).min().alias("person_key"))
    )
    return (
        members.join(canonical, on="component")
        .filter(pl.col("key") != pl.col("person_key"))
        .select(pl.col("key").alias("alias_key"), "person_key")
        .sort("alias_key")
    )
