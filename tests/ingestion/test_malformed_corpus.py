"""A corpus of the ways real exports break, each with its asserted outcome.

Every case is one small file; the outcome is (rows loaded, rows quarantined, exact duplicates
dropped, a phrase the reason must contain). Accounting must hold in every case, and nothing may
raise: a bad file is reported, never a stack trace.
"""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingestion.contracts import load_contracts
from ingestion.normalize import Lineage, normalize_file

CONTRACTS = load_contracts()
NOW = datetime(2026, 11, 1, tzinfo=UTC)

MC_HEADER = "Email Address,First Name,Last Name,Campaign Title,Campaign ID,Action,Timestamp,URL"


def mc(email="ann@example.com", action="open", ts="2026-10-01 09:00:00", title="Weekly Newsletter", url="", cid="c1"):
    return f"{email},Ann,Lee,{title},{cid},{action},{ts},{url}"


def mc_file(*rows: str, header: str = MC_HEADER, eol: str = "\n") -> bytes:
    return eol.join([header, *rows]).encode() + eol.encode()


SHOP_HEADER = "Name,Email,Financial Status,Created at,Currency,Subtotal,Shipping,Taxes,Total,Discount Code,Source"


def shop(name="#1", total="100.00", created="2026-10-01 10:00:00 -0400", email="ann@example.com", code=""):
    return f"{name},{email},paid,{created},USD,90.00,0.00,10.00,{total},{code},web"


FORMULA = '"=HYPERLINK(""http://x"",""y"")"'  # as a CSV field: quoted, quotes doubled
TF_HEADER = "#,Email,Survey,Score,Comment,Touchpoint,Submit Date (UTC)"

CASES = [
    # (id, contract, file bytes, loaded, quarantined, duplicates, reason phrase or None)
    ("clean", "mailchimp_activity", mc_file(mc(), mc(action="click")), 2, 0, 0, None),
    ("utf8-bom", "mailchimp_activity", b"\xef\xbb\xbf" + mc_file(mc()), 1, 0, 0, None),
    ("crlf-line-endings", "mailchimp_activity", mc_file(mc(), mc(action="click"), eol="\r\n"), 2, 0, 0, None),
    ("quoted-newline-in-field", "mailchimp_activity",
     mc_file(mc(title='"Weekly\nNewsletter"'), mc(action="click", ts="2026-10-01 25:00:00")), 1, 1, 0, "'2026-10-01 25:00:00' is not a datetime"),
    ("unclosed-quote", "mailchimp_activity", mc_file(mc(title='"Weekly'), mc(action="click")), 0, 1, 0, "unclosed quote swallowed"),
    ("too-many-fields", "mailchimp_activity", mc_file(mc() + ",extra"), 0, 1, 0, "9 fields, header has 8 (too many fields)"),
    ("too-few-fields", "mailchimp_activity", mc_file("ann@example.com,Ann,Lee"), 0, 1, 0, "3 fields, header has 8 (too few fields)"),
    ("blank-lines-are-not-rows", "mailchimp_activity", mc_file(mc(), "", mc(action="click")), 2, 0, 0, None),
    ("exact-duplicate", "mailchimp_activity", mc_file(mc(), mc()), 1, 0, 1, None),
    ("conflicting-duplicate-key", "shopify_orders", f"{SHOP_HEADER}\n{shop()}\n{shop(total='120.00')}\n".encode(), 1, 1, 0, "repeats row 1"),
    ("mixed-date-formats", "mailchimp_activity", mc_file(mc(), mc(action="click", ts="01/10/2026 09:05")), 1, 1, 0, "'01/10/2026 09:05' is not a datetime"),
    ("impossible-date", "mailchimp_activity", mc_file(mc(ts="2026-02-30 09:00:00")), 0, 1, 0, "'2026-02-30 09:00:00' is not a datetime"),
    ("dst-gap-local-time", "mailchimp_activity", mc_file(mc(ts="2026-03-08 02:30:00")), 0, 1, 0, "is not a datetime"),
    ("future-timestamp", "mailchimp_activity", mc_file(mc(ts="2027-01-01 09:00:00")), 0, 1, 0, "is in the future"),
    ("invalid-email", "mailchimp_activity", mc_file(mc(email="ann(at)example.com")), 0, 1, 0, "is not an email address"),
    ("missing-identity", "mailchimp_activity", mc_file(mc(email="")), 0, 1, 0, "no identity"),
    ("unknown-code-value", "mailchimp_activity", mc_file(mc(action="forwarded")), 0, 1, 0, "'forwarded' is an unknown code"),
    ("required-value-empty", "mailchimp_activity", mc_file(mc(ts="")), 0, 1, 0, "column 'Timestamp' is empty"),
    ("non-numeric-amount", "shopify_orders", f"{SHOP_HEADER}\n{shop(total='$100')}\n".encode(), 0, 1, 0, "'$100' is not a number"),
    ("formula-looking-text-kept-as-text", "shopify_orders",
     f"{SHOP_HEADER}\n{shop(code=FORMULA)}\n".encode(), 1, 0, 0, None),
    ("huge-field", "mailchimp_activity", mc_file(mc(title="x" * 200_000)), 0, 1, 0, "value of 200,000 characters"),
    ("nul-byte", "mailchimp_activity", mc_file(mc(title="News\x00letter")), 0, 1, 0, "NUL byte"),
    ("extra-column-ignored", "mailchimp_activity", mc_file(mc() + ",VIP", header=MC_HEADER + ",Member Rating"), 1, 0, 0, None),
    ("renamed-column", "mailchimp_activity", mc_file(mc(), header=MC_HEADER.replace("Email Address", "E-mail Address")), 0, 1, 0,
     "'Email Address' -> 'E-mail Address'?"),
    ("wrong-delimiter", "mailchimp_activity", mc_file(mc().replace(",", ";"), header=MC_HEADER.replace(",", ";")), 0, 1, 0,
     "is the delimiter ';'?"),
    ("header-only", "mailchimp_activity", mc_file(), 0, 0, 0, None),
    ("empty-file", "mailchimp_activity", b"", 0, 0, 0, "empty file"),
    ("latin-1-bytes-in-utf8-export", "mailchimp_activity", MC_HEADER.encode() + b"\nann@example.com,Ren\xe9,Lee,N,c1,open,2026-10-01 09:00:00,\n",
     0, 0, 0, "not valid utf-8-sig at byte 102 (line 2)"),
    ("excel-workbook-named-csv", "mailchimp_activity", b"PK\x03\x04\x14\x00\x06\x00binary", 0, 0, 0, "an .xlsx workbook"),
    ("utf16-export", "mailchimp_activity", "\ufeff".encode("utf-16-le") + mc_file(mc()).decode().encode("utf-16-le"), 0, 0, 0, "UTF-16"),
    ("duplicated-header-names", "mailchimp_activity", mc_file(mc() + ",x", header=MC_HEADER + ",URL"), 0, 0, 0, "header repeats column(s) ['URL']"),
    ("nps-out-of-range-is-loaded-for-the-suite", "typeform_responses",
     f"{TF_HEADER}\nr1,ann@example.com,NPS,11,,Overall,2026-10-01 10:00:00\n".encode(), 1, 0, 0, None),
]


@pytest.mark.parametrize(("contract", "content", "loaded", "quarantined", "duplicates", "phrase"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_malformed_input(tmp_path: Path, contract, content, loaded, quarantined, duplicates, phrase):
    path = tmp_path / contract / "2026-10-01" / "export.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    result = normalize_file(CONTRACTS[contract], path, Lineage(f"{contract}/2026-10-01/export.csv", "b", NOW, "salt"))
    stats = result.stats()
    assert (stats["rows_loaded"], stats["rows_quarantined"], stats["duplicates_dropped"]) == (loaded, quarantined, duplicates)
    assert stats["rows_read"] == loaded + quarantined + duplicates
    if phrase:
        reasons = " | ".join(result.quarantine["reason"].to_list())
        assert phrase in reasons
        assert all(result.quarantine["source_file"] == f"{contract}/2026-10-01/export.csv")
    else:
        assert result.quarantine.height == 0


def test_corpus_is_wide():
    assert len(CASES) >= 25


def test_formula_text_is_stored_verbatim(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(f"{SHOP_HEADER}\n{shop(code=FORMULA)}\n")
    result = normalize_file(CONTRACTS["shopify_orders"], path, Lineage("shopify_orders/2026-10-01/export.csv", "b", NOW, "s"))
    assert result.rows["campaign_name"][0] == '=HYPERLINK("http://x","y")'


def test_line_numbers_count_quoted_newlines(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(mc_file(mc(title='"Weekly\nNewsletter"'), mc(action="click", ts="bad")))
    q = normalize_file(CONTRACTS["mailchimp_activity"], path, Lineage("x", "b", NOW, "s")).quarantine
    assert (q["source_row"][0], q["source_line"][0]) == (2, 4)
