import polars as pl

from ingestion.identity import resolve


def links(*edges):
    return pl.DataFrame(
        [{"person_key": a, "person_key_kind": ak, "linked_key": b, "linked_kind": bk} for (a, ak), (b, bk) in edges]
    )


def as_dict(frame):
    return dict(frame.iter_rows())


def test_chains_resolve_to_the_email_key():
    # visitor v1 clicked with gclid g1; the CRM form captured g1 next to e1; a survey came in by contact c1 of e1
    edges = [(("a_v1", "anon"), ("k_g1", "click")), (("e_1", "email"), ("k_g1", "click")), (("e_1", "email"), ("c_1", "contact"))]
    assert as_dict(resolve(links(*edges))) == {"a_v1": "e_1", "k_g1": "e_1", "c_1": "e_1"}


def test_two_emails_linked_by_one_click_become_one_person_smallest_email_wins():
    edges = [(("e_b", "email"), ("k_g", "click")), (("e_a", "email"), ("k_g", "click"))]
    assert as_dict(resolve(links(*edges))) == {"e_b": "e_a", "k_g": "e_a"}


def test_component_without_email_takes_the_preferred_kind():
    edges = [(("z_anon", "anon"), ("a_click", "click"))]
    assert as_dict(resolve(links(*edges))) == {"a_click": "z_anon"}


def test_separate_people_stay_separate():
    edges = [(("e_1", "email"), ("k_1", "click")), (("e_2", "email"), ("k_2", "click"))]
    assert as_dict(resolve(links(*edges))) == {"k_1": "e_1", "k_2": "e_2"}


def test_no_links_no_map():
    empty = pl.DataFrame(schema={"person_key": pl.String, "person_key_kind": pl.String, "linked_key": pl.String, "linked_kind": pl.String})
    assert resolve(empty).height == 0
