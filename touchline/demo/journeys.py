"""Simulate customer journeys: stranger -> visitor -> lead -> customer -> fan.

Each person gets an arrival channel, stage-appropriate touchpoints in time order, and a chance
to move on that depends on the channel. Customers may buy again, answer surveys and invite
friends, who are simulated as people in their own right. Output is neutral `Event`s; the
vendor writers (vendors.py) turn them into each vendor's export rows.

Times are POSIX seconds (UTC) as floats: adding `rng.uniform(...) * HOUR` is cheap, a datetime
plus a timedelta is not, and the vendor writers format each time in their vendor's own zone.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field
from itertools import accumulate

from touchline.demo import catalog as cat


MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0


@dataclass(slots=True)
class Event:
    kind: str  # ad_click | contact | email | order | ticket | survey | support_survey | referral
    at: float  # POSIX seconds (UTC)
    person: Person
    data: dict = field(default_factory=dict)


@dataclass(slots=True)
class Person:
    index: str  # unique, stable: "<seed person>" or "<referrer>r<k>"
    first: str
    last: str
    email: str
    channel: str
    arrived: float  # POSIX seconds
    referrer: Person | None = None
    lifecycle: str = "visitor"
    referral_code: str = ""
    lead_at: float | None = None


@dataclass(frozen=True)
class Window:
    start: float  # POSIX seconds
    end: float  # exclusive


def make_person(rng: random.Random, index: str, channel: str, arrived: float, referrer: Person | None = None) -> Person:
    first, last = rng.choice(cat.FIRST_NAMES), rng.choice(cat.LAST_NAMES)
    local = f"{first}.{last}".lower().replace("ü", "u")
    email = f"{local}.{index}@{rng.choice(cat.EMAIL_DOMAINS)}"
    return Person(index, first, last, email, channel, arrived, referrer, referral_code=f"REF{index.upper()}")


_ARRIVALS = [c for c, p in cat.CHANNELS.items() if p.weight > 0]
_ARRIVAL_WEIGHTS = list(accumulate(cat.CHANNELS[c].weight for c in _ARRIVALS))
_CAMPAIGNS_OF = {platform: [c for c in cat.AD_CAMPAIGNS if c.platform == platform] for platform in ("google", "meta")}
_CSAT_WEIGHTS = list(accumulate((3, 4, 13, 40, 40)))
_NPS_WEIGHTS = list(accumulate((2, 1, 1, 2, 2, 4, 6, 12, 20, 25, 25)))
_SUPPORT_CSAT_WEIGHTS = list(accumulate((5, 5, 15, 35, 40)))
_SUPPORT_NPS_WEIGHTS = list(accumulate((3, 1, 1, 2, 2, 5, 6, 12, 20, 24, 24)))


def pick_channel(rng: random.Random) -> str:
    return rng.choices(_ARRIVALS, cum_weights=_ARRIVAL_WEIGHTS)[0]


def simulate(rng: random.Random, person: Person, window: Window, events: list[Event], queue: deque[Person]) -> None:
    """Append the person's events (inside the window) and any invited friends to `queue`."""
    profile = cat.CHANNELS[person.channel]
    out: list[Event] = []
    t = person.arrived

    # Awareness: ad clicks for paid arrivals.
    platform = cat.PLATFORM_OF_CHANNEL.get(person.channel)
    if platform:
        campaigns = _CAMPAIGNS_OF[platform]
        for k in range(rng.choice((1, 1, 2, 3))):
            out.append(Event("ad_click", t + 30 * k * HOUR + rng.randint(0, 59) * MINUTE, person,
                             {"campaign": rng.choice(campaigns), "n": k}))

    if rng.random() >= profile.p_lead:
        _keep(out, window, events)
        return

    # Consideration: becomes a contact, receives and reacts to emails.
    person.lifecycle = "lead"
    lead_at = t + rng.uniform(0.2, 72) * HOUR
    person.lead_at = lead_at
    out.append(Event("contact", lead_at, person))
    _email(rng, person, cat.WELCOME, lead_at + HOUR, out)
    if rng.random() < 0.15:
        _ticket(rng, person, lead_at + rng.uniform(1, 96) * HOUR, rng.choice(cat.SUPPORT_SUBJECTS_BEFORE), out)

    purchases: list[float] = []
    if rng.random() < profile.p_purchase:
        buy = lead_at + rng.expovariate(1 / 7) * DAY
        if rng.random() < 0.3:  # abandoned a cart first: a reminder 24 h later
            cart = buy - rng.uniform(1, 3) * DAY
            if cart > lead_at:
                _email(rng, person, cat.CART_REMINDER, cart + 24 * HOUR, out)
        while buy < window.end:
            purchases.append(buy)
            if rng.random() >= profile.p_repeat:
                break
            buy = buy + (rng.expovariate(1 / 30) + 1) * DAY
    for n, at in enumerate(purchases):
        out.append(Event("order", at, person, {"n": n, "total": round(rng.lognormvariate(4.0, 0.5), 2),
                                                "code": rng.choice(cat.DISCOUNT_CODES)}))
        if rng.random() < 0.3:
            out.append(Event("survey", at + rng.uniform(1, 4) * DAY, person,
                             {"survey": "CSAT", "score": rng.choices((1, 2, 3, 4, 5), cum_weights=_CSAT_WEIGHTS)[0], "about": "Delivery"}))
        if rng.random() < 0.1:
            _ticket(rng, person, at + rng.uniform(2, 10) * DAY, rng.choice(cat.SUPPORT_SUBJECTS_AFTER), out)

    # Newsletters every 7 days from the lead date until unsubscribe or window end.
    at = lead_at + 7 * DAY
    while at < window.end:
        _email(rng, person, cat.NEWSLETTER, at, out)
        if rng.random() < 0.02:
            out.append(Event("email", at + 2 * HOUR, person, {"campaign": cat.NEWSLETTER, "action": "unsub"}))
            break
        at += 7 * DAY

    nps = None
    if purchases:
        person.lifecycle = "customer"
        if rng.random() < 0.25:
            nps = rng.choices(range(11), cum_weights=_NPS_WEIGHTS)[0]
            out.append(Event("survey", purchases[0] + 14 * DAY, person, {"survey": "NPS", "score": nps, "about": "Overall"}))
        if (nps is not None and nps >= 9) or rng.random() < 0.08:
            person.lifecycle = "fan"
            for k in range(rng.choice((1, 1, 2, 3))):
                invite_at = purchases[0] + rng.uniform(1, 20) * DAY
                out.append(Event("referral", invite_at, person, {"type": "share", "k": k}))
                if rng.random() < 0.4:
                    friend = make_person(rng, f"{person.index}r{k}", "referral",
                                         invite_at + rng.uniform(0.5, 5) * DAY, referrer=person)
                    queue.append(friend)

    if person.referrer is not None and person.lifecycle != "visitor":
        out.append(Event("referral", lead_at, person, {"type": "friend_signup"}))
        if purchases:
            out.append(Event("referral", purchases[0] + HOUR, person.referrer,
                             {"type": "reward_issued", "friend": person.index}))

    _keep(out, window, events)


def _keep(out: list[Event], window: Window, events: list[Event]) -> None:
    start, end = window.start, window.end
    events.extend(e for e in out if start <= e.at < end)


def _ticket(rng: random.Random, person: Person, at: float, subject: str, out: list[Event]) -> None:
    """A support contact; a third of them answer the post-support survey the next day."""
    out.append(Event("ticket", at, person, {"subject": subject}))
    if rng.random() < 0.35:
        csat = rng.choices((1, 2, 3, 4, 5), cum_weights=_SUPPORT_CSAT_WEIGHTS)[0]
        nps = rng.choices(range(11), cum_weights=_SUPPORT_NPS_WEIGHTS)[0] if rng.random() < 0.7 else None
        out.append(Event("support_survey", at + rng.uniform(12, 36) * HOUR, person, {"csat": csat, "nps": nps}))


def _email(rng: random.Random, person: Person, campaign: cat.EmailCampaign, sent: float, out: list[Event]) -> None:
    """Append a sent email and what the person did with it: bounced, or opened and maybe clicked."""
    out.append(Event("email", sent, person, {"campaign": campaign, "action": "sent"}))
    if rng.random() < 0.01:
        out.append(Event("email", sent + MINUTE, person, {"campaign": campaign, "action": "bounce"}))
        return
    if rng.random() < campaign.p_open:
        opened = sent + rng.uniform(2, 600) * MINUTE
        out.append(Event("email", opened, person, {"campaign": campaign, "action": "open"}))
        if rng.random() < campaign.p_click / campaign.p_open:
            out.append(Event("email", opened + rng.uniform(5, 300), person, {"campaign": campaign, "action": "click"}))
