"""Factories for request bodies: a valid one by default, any field overridden."""


VALID = {  # a valid body of each kind, but for the kind itself
    "organisation": {
        "email": "founder@example.org",
        "name": "Open Health Lab",
        "website": "https://openhealth.example.org",
        "short_description": "Citizen-led tools for community health.",
        "long_description": "<p>We build <strong>open</strong> tools.</p>",
        "country": "ES",
        "city": "Barcelona",
        "organisation_type": "Social enterprise, charity, foundation or other non-profit",
        "organisation_size": "6-10",
        "tags": ["health", "open source"],
    },
    "project": {
        "email": "lead@example.org",
        "name": "Care Map",
        "website": "https://caremap.example.org",
        "short_description": "A map of community care services.",
        "long_description": "Mapping care, street by street.",
        "country": "PL",
        "city": "Kraków",
        "latitude": 50.06,
        "longitude": 19.94,
        "social_areas": ["Health and care"],
        "technologies": ["Open data", "Geotagging, GPS and GIS"],
        "dsi_focus": ["Open data"],
        "status": "live",
    },
}


def body(kind: str, **overrides) -> dict:
    return {"kind": kind, **VALID[kind], **overrides}


def organisation_body(**overrides) -> dict:
    return body("organisation", **overrides)


def project_body(**overrides) -> dict:
    return body("project", **overrides)
