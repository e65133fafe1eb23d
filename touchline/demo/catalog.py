"""What the simulated shop looks like: campaigns, channels and how well each converts.

Channels differ on purpose so the marts show real differences: referral and direct traffic
convert best, paid social worst; repeat buying follows the same order.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChannelProfile:
    weight: float  # share of new people arriving through the channel (referral comes from invites)
    p_lead: float  # becomes a HubSpot contact
    p_purchase: float  # a lead buys at least once
    p_repeat: float  # after each purchase, buys again
    hubspot_source: str  # HubSpot "Original Source"


CHANNELS: dict[str, ChannelProfile] = {
    "paid_search": ChannelProfile(0.30, 0.45, 0.40, 0.30, "Paid Search"),
    "paid_social": ChannelProfile(0.25, 0.30, 0.20, 0.20, "Paid Social"),
    "organic_search": ChannelProfile(0.20, 0.50, 0.35, 0.35, "Organic Search"),
    "direct": ChannelProfile(0.15, 0.55, 0.45, 0.40, "Direct Traffic"),
    "organic_social": ChannelProfile(0.10, 0.35, 0.25, 0.25, "Social Media"),
    "referral": ChannelProfile(0.0, 0.70, 0.55, 0.45, "Referrals"),
}


@dataclass(frozen=True)
class AdCampaign:
    platform: str  # google | meta
    campaign_id: str
    name: str
    slug: str  # utm_campaign
    landing_path: str
    ctr: float
    cpc: float


AD_CAMPAIGNS: tuple[AdCampaign, ...] = (
    AdCampaign("google", "20311001", "Brand Search", "brand_search", "/", 0.080, 0.45),
    AdCampaign("google", "20311002", "Spring Sale - Search", "spring_sale", "/sale", 0.045, 0.85),
    AdCampaign("google", "20311003", "Compare Running Shoes - Reviews", "compare_reviews", "/reviews/running-shoes", 0.030, 1.10),
    AdCampaign("google", "20311004", "Next-Day Delivery", "next_day_delivery", "/shipping", 0.025, 0.95),
    AdCampaign("meta", "120208899001", "Flash Sale Carousel", "flash_sale", "/sale/flash", 0.012, 0.55),
    AdCampaign("meta", "120208899002", "Brand Video Awareness", "brand_video", "/", 0.008, 0.40),
    AdCampaign("meta", "120208899003", "Customer Reviews UGC", "reviews_ugc", "/reviews", 0.010, 0.60),
)

PLATFORM_OF_CHANNEL = {"paid_search": "google", "paid_social": "meta"}


@dataclass(frozen=True)
class EmailCampaign:
    campaign_id: str
    title: str
    slug: str
    path: str
    p_open: float
    p_click: float


WELCOME = EmailCampaign("a1b2c3d401", "Welcome Series - Step 1", "welcome", "/welcome", 0.62, 0.22)
NEWSLETTER = EmailCampaign("a1b2c3d402", "Weekly Newsletter", "newsletter", "/blog", 0.30, 0.05)
CART_REMINDER = EmailCampaign("a1b2c3d403", "Abandoned Cart Reminder", "cart_reminder", "/cart", 0.45, 0.18)
BLACK_FRIDAY = EmailCampaign("a1b2c3d404", "Black Friday Deals", "black_friday", "/sale/black-friday", 0.40, 0.12)

SUPPORT_SUBJECTS_BEFORE = ("Question about shipping times", "Sizing help before I order", "Do you ship to Canada?")
SUPPORT_SUBJECTS_AFTER = ("Return request", "Order arrived damaged", "Where is my order?", "Refund status")
SUPPORT_VIA = ("Chat", "Email", "Web form", "Phone")
DISCOUNT_CODES = ("", "", "", "WELCOME10", "SPRING20", "FRIEND15")
FIRST_NAMES = ("Amina", "Omar", "Layla", "Yusuf", "Sara", "Karim", "Noor", "Hadi", "Mona", "Tariq",
               "Emma", "Liam", "Olivia", "Noah", "Ava", "Lucas", "Mia", "Ethan", "Zoe", "Adam")
LAST_NAMES = ("Haddad", "Khalil", "Nasser", "Saleh", "Farouk", "Mansour", "Smith", "Garcia",
              "Müller", "Rossi", "Dubois", "Kowalski", "Silva", "Tanaka", "Okafor", "Jensen")
EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.example")
SHOP_URL = "https://shop.example.com"
