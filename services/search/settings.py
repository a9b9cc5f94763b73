"""The search service's settings (config.yml over the environment), checked when it starts."""
from typing import Literal

from pydantic import Field

from dsi.settings import PlatformSettings


class SearchSettings(PlatformSettings):
    # embedded: a tantivy index per instance under SEARCH_INDEX_DIR; elasticsearch: one shared index
    SEARCH_BACKEND: Literal["embedded", "elasticsearch"] = "embedded"
    SEARCH_INDEX_DIR: str = "var/search"
    ELASTICSEARCH_URL: str = "http://localhost:9200"
    ELASTICSEARCH_INDEX: str = "dsi-search"
    SEARCH_BOOTSTRAP_TIMEOUT: float = Field(default=300, gt=0, description="seconds to wait for the directory")
    SEARCH_CATCH_UP_DELAY: float = Field(default=2, ge=0, description="seconds after start before catching up")
