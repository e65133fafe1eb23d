"""Simulate customer journeys: stranger -> visitor -> lead -> customer -> fan.

Each person gets an arrival channel, stage-appropriate touchpoints in time order, and a chance
to move on that depends on the channel. Customers may buy again, answer surveys and invite
friends, who are simulated as people in their own right. Output is neutral `Event`s; the
vendor writers (vendors.py) turn them into each vendor's export rows.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from touchline.demo import catalog as cat


@dataclass
class Event:
    kind: str  # ad_click | contact | email | order | ticket | survey | referral
    at: datetime  # UTC, tz-aware
    person: Person
    data: dict = field(default_factory=dict)


@dataclass
class Person:
    index: str  # unique, stable: "<seed person>" or "<referrer>r<k>"
    first: str
    last: str
    email: str
    channel: str
    arrived: datetime
    referrer: Person | None = None
    lifecycle: str = "visitor"
    referral_code: str = ""
    lead_at: datetime | None = None


@dataclass
class Window:
    start: datetime
    end: datetime  # exclusive

    def contains(self, at: datetime) -> bool:
        return self.start <= at < self.end


def make_person(rng: random.Random, index: str, channel: str, arrived: datetime, referrer: Person | None = None) -> Person:
    first, last = rng.choice(cat.FIRST_NAMES), rng.choice(cat.LAST_NAMES)
    local = f"{first}.{last}".lower().replace("ü", "u")
    email = f"{local}.{index}@{rng.choice(cat.EMAIL_DOMAINS)}"
    return Person(index, first, last, email, channel, arrived, referrer, referral_code=f"REF{index.upper()}")


def pick_channel(rng: random.Random) -> str:
    names = [c for c, p in cat.CHANNELS.items() if p.weight > 0]
    return rng.choices(names, weights=[cat.CHANNELS[c].weight for c in names])[0]


def simulate(rng: random.Random, person: Person, window: Window, events: list[Event], queue: list[Person]) -> None:
    """Append the person's events (inside the window) and any invited friends to `queue`."""
    profile = cat.CHANNELS[person.channel]
    out: list[Event] = []
    t = person.arrived

    # Awareness: ad clicks for paid arrivals.
    platform = cat.PLATFORM_OF_CHANNEL.get(person.channel)
    if platform:
        campaigns = [c for c in cat.AD_CAMPAIGNS if c.platform == platform]
        for k in range(rng.choice((1, 1, 2, 3))):
            out.append(Event("ad_click", t + timedelta(hours=30 * k, minutes=rng.randint(0, 59)), person,
                             {"campaign": rng.choice(campaigns), "n": k}))

    if rng.random() >= profile.p_lead:
        events.extend(e for e in out if window.contains(e.at))
        return

    # Consideration: becomes a contact, receives and reacts to emails.
    person.lifecycle = "lead"
    lead_at = t + timedelta(hours=rng.uniform(0.2, 72))
    person.lead_at = lead_at
    out.append(Event("contact", lead_at, person))
    out.extend(_email(rng, person, cat.WELCOME, lead_at + timedelta(hours=1)))
    if rng.random() < 0.15:
        _ticket(rng, person, lead_at + timedelta(hours=rng.uniform(1, 96)), rng.choice(cat.SUPPORT_SUBJECTS_BEFORE), out)

    purchases: list[datetime] = []
    if rng.random() < profile.p_purchase:
        buy = lead_at + timedelta(days=rng.expovariate(1 / 7))
        if rng.random() < 0.3:  # abandoned a cart first: a reminder 24 h later
            cart = buy - timedelta(days=rng.uniform(1, 3))
            if cart > lead_at:
                out.extend(_email(rng, person, cat.CART_REMINDER, cart + timedelta(hours=24)))
        while buy < window.end:
            purchases.append(buy)
            if rng.random() >= profile.p_repeat:
                break
            buy = buy + timedelta(days=rng.expovariate(1 / 30) + 1)
    for n, at in enumerate(purchases):
        out.append(Event("order", at, person, {"n": n, "total": round(rng.lognormvariate(4.0, 0.5), 2),
                                                "code": rng.choice(cat.DISCOUNT_CODES)}))
        if rng.random() < 0.3:
            out.append(Event("survey", at + timedelta(days=rng.uniform(1, 4)), person,
                             {"survey": "CSAT", "score": rng.choices((1, 2, 3, 4, 5), (3, 4, 13, 40, 40))[0], "about": "Delivery"}))
        if rng.random() < 0.1:
            _ticket(rng, person, at + timedelta(days=rng.uniform(2, 10)), rng.choice(cat.SUPPORT_SUBJECTS_AFTER), out)

    # Newsletters every 7 days from the lead date until unsubscribe or window end.
    at = lead_at + timedelta(days=7)
    while at < window.end:
        emails = _email(rng, person, cat.NEWSLETTER, at)
        out.extend(emails)
        if rng.random() < 0.02:
            out.append(Event("email", at + timedelta(hours=2), person, {"campaign": cat.NEWSLETTER, "action": "unsub"}))
            break
        at += timedelta(days=7)

    nps = None
    if purchases:
        person.lifecycle = "customer"
        if rng.random() < 0.25:
            nps = rng.choices(range(11), (2, 1, 1, 2, 2, 4, 6, 12, 20, 25, 25))[0]
            out.append(Event("survey", purchases[0] + timedelta(days=14), person, {"survey": "NPS", "score": nps, "about": "Overall"}))
        if (nps is not None and nps >= 9) or rng.random() < 0.08:
            person.lifecycle = "fan"
            for k in range(rng.choice((1, 1, 2, 3))):
                invite_at = purchases[0] + timedelta(days=rng.uniform(1, 20))
                out.append(Event("referral", invite_at, person, {"type": "share", "k": k}))
                if rng.random() < 0.4:
                    friend = make_person(rng, f"{person.index}r{k}", "referral",
                                         invite_at + timedelta(days=rng.uniform(0.5, 5)), referrer=person)
                    queue.append(friend)

    if person.referrer is not None and person.lifecycle != "visitor":
        out.append(Event("referral", lead_at, person, {"type": "friend_signup"}))
        if purchases:
            out.append(Event("referral", purchases[0] + timedelta(hours=1), person.referrer,
                             {"type": "reward_issued", "friend": person.index}))

    events.extend(e for e in out if window.contains(e.at))


def _ticket(rng: random.Random, person: Person, at: datetime, subject: str, out: list[Event]) -> None:
    """A support contact; a third of them answer the post-support survey the next day."""
    out.append(Event("ticket", at, person, {"subject": subject}))
    if rng.random() < 0.35:
        csat = rng.choices((1, 2, 3, 4, 5), (5, 5, 15, 35, 40))[0]
        nps = rng.choices(range(11), (3, 1, 1, 2, 2, 5, 6, 12, 20, 24, 24))[0] if rng.random() < 0.7 else None
        out.append(Event("support_survey", at + timedelta(hours=rng.uniform(12, 36)), person, {"csat": csat, "nps": nps}))


def _email(rng: random.Random, person: Person, campaign: cat.EmailCampaign, sent: datetime) -> list[Event]:
    out = [Event("email", sent, person, {"campaign": campaign, "action": "sent"})]
    if rng.random() < 0.01:
        out.append(Event("email", sent + timedelta(minutes=1), person, {"campaign": campaign, "action": "bounce"}))
        return out
    if rng.random() < campaign.p_open:
        opened = sent + timedelta(minutes=rng.uniform(2, 600))
        out.append(Event("email", opened, person, {"campaign": campaign, "action": "open"}))
        if rng.random() < campaign.p_click / campaign.p_open:
            out.append(Event("email", opened + timedelta(seconds=rng.uniform(5, 300)), person,
                             {"campaign": campaign, "action": "click"}))
    return out
