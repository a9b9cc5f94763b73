"""Controlled vocabularies of the platform (values of the original DSI4EU platform, see PRODUCT.md).

Each vocabulary maps a stable slug (stored, used in URLs and facets) to its English label (shown, and
accepted on input). Labels are matched case-insensitively; 2017 names are accepted through LEGACY.
"""
import re
import unicodedata

# Letters that Unicode does not decompose into a base letter and a mark: without these, "Łódź" would lose its Ł.
_TRANSLITERATE = str.maketrans({
    "Ł": "L", "ł": "l", "ß": "ss", "ẞ": "SS", "Ø": "O", "ø": "o", "Æ": "AE", "æ": "ae", "Œ": "OE", "œ": "oe",
    "Đ": "D", "đ": "d", "Ð": "D", "ð": "d", "Þ": "TH", "þ": "th", "Ħ": "H", "ħ": "h", "ı": "i", "Ŀ": "L",
    "ŀ": "l", "Ŧ": "T", "ŧ": "t", "Ŋ": "NG", "ŋ": "ng", "ĸ": "q", "Ə": "E", "ə": "e",
})


def slugify(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.translate(_TRANSLITERATE)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")


def _vocab(*labels: str) -> dict[str, str]:
    return {slugify(label): label for label in labels}


SOCIAL_AREAS = _vocab(
    "Health and care",
    "Skills and learning",
    "Food, environment and climate change",
    "Migration and integration",
    "Digital democracy",
    "Cities and urban development",
    "Work and employment",
    "Culture and arts",
    "Science",
    "Finance and economy",
)

# The six thematic clusters: a social area each, with its lead partner.
CLUSTERS = {
    "health-and-care": "WeMake",
    "skills-and-learning": "Fab Lab Barcelona",
    "digital-democracy": "ePaństwo Foundation",
    "food-environment-and-climate-change": "Waag",
    "migration-and-integration": "betterplace lab",
    "cities-and-urban-development": "Barcelona Activa",
}

TECHNOLOGIES = _vocab(
    "Social networks and social media",
    "Crowdsourcing, crowdmapping and crowdfunding",
    "Open data",
    "Mobile and web apps",
    "Open-source technologies",
    "Peer-to-peer networks",
    "Online learning and MOOCs",
    "Online marketplaces and noticeboards",
    "Big data",
    "Sensors and internet of things",
    "Geotagging, GPS and GIS",
    "Digital fabrication and 3D-printing",
    "Wearables and personal monitoring",
    "AI and machine learning",
    "Digital democracy tools",
    "Blockchain and distributed networks",
    "Robotics",
    "VR and AR",
)

DSI_FOCUS = _vocab("Open knowledge", "Open data", "Open networks", "Open hardware")

ORGANISATION_TYPES = _vocab(
    "Social enterprise, charity, foundation or other non-profit",
    "For-profit business",
    "Academia/Research organisation",
    "Grassroots organisation or community network",
    "Government/Public sector",
)

ORGANISATION_SIZES = {
    "0-5": "0-5 people",
    "6-10": "6-10 people",
    "11-25": "11-25 people",
    "26-50": "26-50 people",
    "51-100": "51-100 people",
    "101-500": "101-500 people",
    "501-1000": "501-1000 people",
    "over-1000": "over 1000 people",
}

PROJECT_STATUSES = {"live": "Live", "closed": "Closed"}

# Interface languages of the original platform, plus Polish (a partner's language): code → own name.
INTERFACE_LANGUAGES = {
    "en": "English", "de": "Deutsch", "fr": "Français", "it": "Italiano", "es": "Español", "ca": "Català",
    "pl": "Polski",
}

FUNDING_TYPES = _vocab(
    "Grant funding",
    "Investment / social investment",
    "Incubators and accelerators",
    "Non-financial support",
    "Working spaces",
    "Networking opportunities",
)

FUNDING_TARGETS = _vocab(
    "Government organisation",
    "Research organisation",
    "Startup",
    "Social enterprise, charity or other non-profit",
    "Individuals",
)

# The editorial hub's own terms (the content service validates them, the pages show and translate them).
STORY_CATEGORIES = {"news": "News", "blog": "Blog", "feature": "Feature", "interview": "Interview"}
RESOURCE_TYPES = {"report": "Report", "guide": "Guide or toolkit", "dataset": "Dataset", "video": "Video",
                  "course": "Course", "other": "Other"}
ATTENDANCE = {"online": "Online", "in_person": "In person", "hybrid": "Hybrid"}

# Names the 2017 platform used, by slug, mapped to today's slugs.
LEGACY = {
    "health-and-wellbeing": "health-and-care",
    "education-and-skills": "skills-and-learning",
    "energy-and-environment": "food-environment-and-climate-change",
    "participation-and-democracy": "digital-democracy",
    "neighbourhood-regeneration": "cities-and-urban-development",
    "artificial-intelligence-and-machine-learning": "ai-and-machine-learning",
    "over-1000-people": "over-1000",
}

# The facets a record carries, with the vocabulary each draws from.
VOCABULARIES = {
    "social_areas": SOCIAL_AREAS,
    "technologies": TECHNOLOGIES,
    "dsi_focus": DSI_FOCUS,
    "organisation_type": ORGANISATION_TYPES,
    "organisation_size": ORGANISATION_SIZES,
    "status": PROJECT_STATUSES,
}


def to_slug(vocabulary: dict[str, str], value: str) -> str | None:
    """The slug of a label, a slug or a 2017 name in `vocabulary`; None if it is not one of its values."""
    slug = slugify(value)
    slug = LEGACY.get(slug, slug)
    if slug in vocabulary:
        return slug
    sized = slugify(value.removesuffix("people").removesuffix("People"))  # "6-10 people" → "6-10"
    return sized if sized in vocabulary else None


def label(vocabulary_name: str, slug: str) -> str:
    return VOCABULARIES[vocabulary_name].get(slug, slug)


# Moderation: why a moderator rejects or sends back a submission, and why the public reports a record.
# Code → label; the submitter sees both the label and the moderator's own words.
REJECT_REASONS = {
    "not_dsi": "Not digital social innovation",
    "spam": "Spam or advertising",
    "duplicate": "Already in the directory",
    "inappropriate": "Inappropriate content",
    "unverifiable": "Cannot be verified",
    "other": "Other",
}
CHANGES_REASONS = {
    "incomplete": "Information is missing",
    "unclear": "The description is unclear",
    "wrong_category": "Wrong categories or tags",
    "bad_link": "The website or logo does not work",
    "other": "Other",
}
REPORT_REASONS = {
    "spam": "Spam or advertising",
    "inappropriate": "Inappropriate or offensive",
    "not_dsi": "Not digital social innovation",
    "incorrect": "Wrong or outdated information",
    "closed": "No longer exists",
    "other": "Other",
}


def reason_label(code: str | None) -> str | None:
    """The label of a moderation reason code, for the people who read it; None for no or an unknown code."""
    return {**REPORT_REASONS, **CHANGES_REASONS, **REJECT_REASONS}.get(code or "")


# The moderation console's codes as staff read them (translated by the gateway's catalogues): submission states,
# decisions, history steps, report cases and their actions, editorial states and steps, staff roles.
MODERATION_TERMS = {
    "pending": "Pending",
    "approved": "Approved",
    "rejected": "Rejected",
    "changes_requested": "Changes requested",
    "withdrawn": "Withdrawn",
    "approve": "Approved",
    "reject": "Rejected",
    "request_changes": "Changes requested",
    "submitted": "Submitted",
    "applied": "Applied by the directory",
    "reported": "Reported",
    "open": "Reported, still public",
    "hidden": "Hidden until a moderator decides",
    "removed": "Removed",
    "closed": "Closed",
    "restored": "Restored",
    "dismissed": "Reports dismissed",
    "draft": "Draft",
    "scheduled": "Scheduled",
    "published": "Published",
    "unpublished": "Unpublished",
    "archived": "Archived",
    "created": "Created",
    "updated": "Updated",
    "schedule": "Scheduled",
    "publish": "Published",
    "unpublish": "Unpublished",
    "archive": "Archived",
    "running": "Sending",
    "paused": "Paused",
    "finished": "Sent",
    "cancelled": "Cancelled",
    "moderator": "Moderator",
    "editor": "Editor",
    "admin": "Administrator",
}
# Who acted, when it was not a staff member.
ACTORS = {"submitter": "The submitter", "directory": "The directory", "public": "The public", "system": "The platform"}
# The role a linked record plays in a project (`organisations: [{"id", "role"}]`).
LINK_ROLES = {"lead": "Lead", "partner": "Partner"}


def moderation_term(code: str | None) -> str | None:
    """A console code's label for the people who read it; None for no or an unknown code."""
    return {**MODERATION_TERMS, **ACTORS, **LINK_ROLES}.get(code or "")
