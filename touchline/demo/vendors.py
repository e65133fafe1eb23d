"""Turn simulated events into rows shaped like each vendor's export.

Each writer knows its vendor's column names, time zone and date format, matching the contract
of the same name in ingestion/contracts/. Emails are written as people type them: some in
mixed case, some with stray spaces.
"""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, date, datetime, tzinfo
from zoneinfo import ZoneInfo

from touchline.demo import catalog as cat
from touchline.demo.journeys import MINUTE, Event

NEW_YORK = ZoneInfo("America/New_York")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
LONDON = ZoneInfo("Europe/London")
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

HEADERS: dict[str, list[str]] = {
    "ad_clicks": ["event_id", "event_time", "visitor_id", "user_email", "page_url", "referrer"],
    "mailchimp_activity": ["Email Address", "First Name", "Last Name", "Campaign Title", "Campaign ID", "Action", "Timestamp", "URL"],
    "hubspot_contacts": ["Record ID", "First Name", "Last Name", "Email", "Lifecycle Stage", "Original Source",
                         "Original Source Drill-Down 1", "Create Date", "Referral Code", "Referred By",
                         "Google ad click id", "Facebook click id"],
    "shopify_orders": ["Name", "Email", "Financial Status", "Created at", "Currency", "Subtotal", "Shipping",
                       "Taxes", "Total", "Discount Code", "Source"],
    "zendesk_tickets": ["Id", "Requester email", "Subject", "Via", "Status", "Created at"],
    "referral_events": ["Event ID", "Event Type", "Created At", "Email", "Advocate Email", "Referral Code", "Campaign",
                        "Reward Amount", "Reward Currency"],
    "typeform_responses": ["#", "Email", "Survey", "Score", "Comment", "Touchpoint", "contact_id", "Submit Date (UTC)"],
    "surveymonkey_support": ["Respondent ID", "Collector ID", "Start Date", "End Date", "Email Address",
                             "How satisfied were you with the help you received?",
                             "How likely is it that you would recommend us to a friend or colleague?",
                             "Anything else you would like to tell us?"],
    "google_ads_campaign_day": ["Day", "Campaign ID", "Campaign", "Currency code", "Impr.", "Clicks", "Cost"],
    "meta_ads_campaign_day": ["Reporting starts", "Reporting ends", "Campaign name", "Campaign ID", "Impressions",
                              "Link clicks", "Amount spent (EUR)"],
}

# Columns the demo breaks on purpose (ingestion must quarantine the row): when, and an amount.
TIMESTAMP_COLUMNS = {
    "ad_clicks": "event_time", "mailchimp_activity": "Timestamp", "hubspot_contacts": "Create Date",
    "shopify_orders": "Created at", "zendesk_tickets": "Created at", "referral_events": "Created At",
    "typeform_responses": "Submit Date (UTC)", "klaviyo_events": "datetime", "surveymonkey_support": "End Date",
}
JSONL_SOURCES = {"klaviyo_events"}
KLAVIYO_METRICS = {"sent": "Received Email", "open": "Opened Email", "click": "Clicked Email",
                   "bounce": "Bounced Email", "unsub": "Unsubscribed"}
NUMBER_COLUMNS = {"shopify_orders": "Total", "typeform_responses": "Score",
                  "surveymonkey_support": "How satisfied were you with the help you received?"}
# Rows under the header that are not data (SurveyMonkey's "Response" / "Open-Ended Response" row)
SECOND_HEADER = {"surveymonkey_support": ["", "", "", "", "", "Response", "Response", "Open-Ended Response"]}

FILE_NAMES = {
    "ad_clicks": "clicks.csv",
    "mailchimp_activity": "campaign_activity.csv",
    "hubspot_contacts": "hubspot-crm-exports-contacts.csv",
    "shopify_orders": "orders_export.csv",
    "zendesk_tickets": "tickets.csv",
    "referral_events": "referral_events.csv",
    "typeform_responses": "responses.csv",
    "klaviyo_events": "events.jsonl",
    "surveymonkey_support": "Post-Support-Survey.csv",
    "google_ads_campaign_day": "Campaign_performance.csv",
    "meta_ads_campaign_day": "Meta-Ads-Campaigns.csv",
}

HUBSPOT_LIFECYCLE = {"visitor": "subscriber", "lead": "lead", "customer": "customer", "fan": "evangelist"}
COMMENTS = {
    "NPS": {0: "Never again.", 5: "It was fine.", 7: "Good, shipping a bit slow.", 9: "Love it, told my friends!"},
    "CSAT": {1: "Package was damaged.", 3: "Okay.", 4: "Quick delivery.", 5: "Perfect, thanks!"},
}


class Clock:
    """POSIX seconds read on one time zone's wall clock, much faster than datetime.strftime.

    The UTC offset is looked up once per hour (these zones change on the hour) and each day's
    date and ISO text once per day."""

    def __init__(self, zone: tzinfo):
        self.zone = zone
        self._offsets: dict[int, int] = {}
        self._days: dict[int, tuple[date, str]] = {}

    def read(self, at: float) -> tuple[date, str, str, int]:
        """(local date, its YYYY-MM-DD, the local time HH:MM:SS, UTC offset in seconds)."""
        hour = int(at // 3600)
        offset = self._offsets.get(hour)
        if offset is None:
            offset = self._offsets[hour] = int(datetime.fromtimestamp(hour * 3600, self.zone).utcoffset().total_seconds())
        day, second = divmod(int(at) + offset, 86400)
        known = self._days.get(day)
        if known is None:
            local = date.fromordinal(EPOCH_ORDINAL + day)
            known = self._days[day] = (local, local.isoformat())
        clock_time = _CLOCK_TIMES.get(second)
        if clock_time is None:
            hours, rest = divmod(second, 3600)
            clock_time = _CLOCK_TIMES[second] = f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
        return known[0], known[1], clock_time, offset


_CLOCK_TIMES: dict[int, str] = {}  # second of the day -> HH:MM:SS
UTC_CLOCK, NEW_YORK_CLOCK, LOS_ANGELES_CLOCK = Clock(UTC), Clock(NEW_YORK), Clock(LOS_ANGELES)


def us_stamp(day: date, clock_time: str) -> str:
    """MM/DD/YYYY hh:MM:SS AM (what strftime's "%m/%d/%Y %I:%M:%S %p" writes) from HH:MM:SS."""
    hours = int(clock_time[:2])
    return f"{day.month:02d}/{day.day:02d}/{day.year} {hours % 12 or 12:02d}{clock_time[2:]} {'AM' if hours < 12 else 'PM'}"


def utc_offset(offset: int) -> str:
    """+HHMM / -HHMM (strftime's %z) of an offset in seconds."""
    hours, minutes = divmod(abs(offset) // 60, 60)
    return f"{'-' if offset < 0 else '+'}{hours:02d}{minutes:02d}"


def stable_number(text: str, digits: int) -> int:
    """A number derived from text, the same in every process (unlike hash())."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big") % 10**digits


def click_id(person_index: str, n: int, platform: str) -> str:
    """The platform click id of the person's n-th ad click (gclid or fbclid)."""
    prefix = "Cj0KCQ" if platform == "google" else "IwAR"
    return f"{prefix}{stable_number(f'{person_index}-{n}', 12):012d}"


def contact_record_id(person_index: str) -> str:
    return str(stable_number(person_index, 15))


def typed_email(rng: random.Random, email: str) -> str:
    """The address as the person typed it into this vendor's form."""
    r = rng.random()
    if r < 0.06:
        return email.title()
    if r < 0.10:
        return f" {email} "
    if r < 0.12:
        return email.upper()
    return email


def to_row(rng: random.Random, event: Event) -> tuple[str, date, list[str] | dict]:
    """(source, export day, row) of the event: a list of CSV fields, or an object for a JSONL export."""
    p, at, d = event.person, event.at, event.data
    if event.kind == "ad_click":
        c: cat.AdCampaign = d["campaign"]
        click_param = "gclid" if c.platform == "google" else "fbclid"
        source, medium = ("google", "cpc") if c.platform == "google" else ("facebook", "paid_social")
        clicked = click_id(p.index, d["n"], c.platform)
        url = (f"{cat.SHOP_URL}{c.landing_path}?utm_source={source}&utm_medium={medium}"
               f"&utm_campaign={c.slug}&utm_id={c.campaign_id}&utm_content=ad{d['n'] + 1}&{click_param}={clicked}")
        identified = p.lead_at is not None and at >= p.lead_at  # the tag knows the email after the form
        day, iso, clock_time, _ = UTC_CLOCK.read(at)
        row = [f"clk-{p.index}-{d['n']}", f"{iso}T{clock_time}.{int(at % 1 * 1000):03d}Z",
               f"v{p.index}", typed_email(rng, p.email) if identified else "", url,
               "https://www.google.com/" if c.platform == "google" else "https://m.facebook.com/"]
        return "ad_clicks", day, row
    if event.kind == "email" and d["campaign"] is cat.CART_REMINDER:  # flows run in Klaviyo
        c3: cat.EmailCampaign = d["campaign"]
        url = f"{cat.SHOP_URL}{c3.path}?utm_source=klaviyo&utm_medium=email&utm_campaign={c3.slug}" if d["action"] == "click" else None
        props = {"Campaign Name": c3.title, "$flow": c3.campaign_id, "$message": f"msg-{c3.campaign_id}"}
        if url:
            props["URL"] = url
        event_key = f"{p.index}-{at!r}-{d['action']}"
        day, iso, clock_time, _ = UTC_CLOCK.read(at)
        obj = {"id": f"kl-{stable_number(event_key, 16):016d}",
               "metric": KLAVIYO_METRICS[d["action"]], "datetime": f"{iso}T{clock_time}+00:00",
               "profile": {"email": typed_email(rng, p.email), "first_name": p.first}, "event_properties": props}
        return "klaviyo_events", day, obj
    if event.kind == "email":
        c2: cat.EmailCampaign = d["campaign"]
        day, iso, clock_time, _ = NEW_YORK_CLOCK.read(at)
        url = f"{cat.SHOP_URL}{c2.path}?utm_source=mailchimp&utm_medium=email&utm_campaign={c2.slug}" if d["action"] == "click" else ""
        row = [typed_email(rng, p.email), p.first, p.last, c2.title, c2.campaign_id, d["action"], f"{iso} {clock_time}", url]
        return "mailchimp_activity", day, row
    if event.kind == "contact":
        day, iso, clock_time, _ = NEW_YORK_CLOCK.read(at)
        drill = ""
        if p.channel in ("paid_search", "paid_social"):
            drill = "google" if p.channel == "paid_search" else "facebook"
        platform = cat.PLATFORM_OF_CHANNEL.get(p.channel)
        captured = click_id(p.index, 0, platform) if platform and rng.random() < 0.9 else ""  # the form's hidden field
        row = [contact_record_id(p.index),
               p.first, p.last, typed_email(rng, p.email), HUBSPOT_LIFECYCLE[p.lifecycle],
               cat.CHANNELS[p.channel].hubspot_source, drill, f"{iso} {clock_time[:5]}", p.referral_code,
               p.referrer.referral_code if p.referrer else "",
               captured if platform == "google" else "", captured if platform == "meta" else ""]
        return "hubspot_contacts", day, row
    if event.kind == "order":
        day, iso, clock_time, offset = NEW_YORK_CLOCK.read(at)
        total = d["total"]
        shipping = 0.0 if total > 50 else 4.99
        taxes = round(total * 0.08, 2)
        subtotal = round(total - shipping - taxes, 2)
        row = [f"#{p.index}-{d['n'] + 1}", typed_email(rng, p.email), "paid", f"{iso} {clock_time} {utc_offset(offset)}", "USD",
               f"{subtotal:.2f}", f"{shipping:.2f}", f"{taxes:.2f}", f"{total:.2f}", d["code"], rng.choice(("web", "web", "web", "pos", "iphone"))]
        return "shopify_orders", day, row
    if event.kind == "ticket":
        day, iso, clock_time, _ = UTC_CLOCK.read(at)
        row = [str(stable_number(f"{p.index}@{at!r}", 9)), typed_email(rng, p.email), d["subject"], rng.choice(cat.SUPPORT_VIA),
               rng.choice(("solved", "closed", "open")), f"{iso}T{clock_time}Z"]
        return "zendesk_tickets", day, row
    if event.kind == "survey":
        score = d["score"]
        comments = COMMENTS[d["survey"]]
        comment = comments[max(k for k in comments if k <= score)] if rng.random() < 0.5 else ""
        email = typed_email(rng, p.email) if rng.random() < 0.85 else ""  # the link carried only the contact id
        day, iso, clock_time, _ = UTC_CLOCK.read(at)
        row = [f"{d['survey'][0].lower()}{p.index}x{int(at)}", email, d["survey"], str(score),
               comment, d["about"], contact_record_id(p.index), f"{iso} {clock_time}"]
        return "typeform_responses", day, row
    if event.kind == "support_survey":
        day, _, clock_time, _ = LOS_ANGELES_CLOCK.read(at)
        started_day, _, started_time, _ = LOS_ANGELES_CLOCK.read(at - rng.uniform(1, 6) * MINUTE)
        row = [str(stable_number(f"{p.index}@{at!r}", 11)), "431020563", us_stamp(started_day, started_time), us_stamp(day, clock_time),
               typed_email(rng, p.email), str(d["csat"]), "" if d["nps"] is None else str(d["nps"]),
               rng.choice(("", "", "Quick answer, thanks", "Took two days to reply"))]
        return "surveymonkey_support", day, row
    if event.kind == "referral":
        kind = d["type"]
        advocate = p.referrer.email if kind == "friend_signup" and p.referrer else ""
        code = p.referrer.referral_code if kind == "friend_signup" and p.referrer else p.referral_code
        reward = "10.00" if kind == "reward_issued" else ""
        suffix = d.get("k", d.get("friend", ""))
        day, iso, clock_time, _ = UTC_CLOCK.read(at)
        row = [f"{kind[:2]}-{p.index}-{suffix}", kind, f"{iso} {clock_time}", typed_email(rng, p.email),
               advocate, code, "Give 15, Get 10", reward, "USD" if reward else ""]
        return "referral_events", day, row
    raise ValueError(f"unknown event kind {event.kind!r}")


def ad_report_rows(rng: random.Random, campaign: cat.AdCampaign, day: date, clicks: int) -> tuple[str, list[str]]:
    """A campaign-day row of the platform report, consistent with the clicks the site logged."""
    impressions = int(clicks / campaign.ctr) + rng.randint(20, 400)
    cost = clicks * campaign.cpc * rng.uniform(0.85, 1.15) + impressions * 0.0004
    if campaign.platform == "google":
        return "google_ads_campaign_day", [day.isoformat(), campaign.campaign_id, campaign.name, "USD",
                                           f"{impressions:,}", f"{clicks:,}", f"{cost:,.2f}"]
    return "meta_ads_campaign_day", [day.isoformat(), day.isoformat(), campaign.name, campaign.campaign_id,
                                     str(impressions), str(clicks) if clicks else "", f"{cost * 0.92:.2f}"]
