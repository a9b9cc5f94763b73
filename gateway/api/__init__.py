"""The JSON API (/api/…) and its OpenAPI document."""
