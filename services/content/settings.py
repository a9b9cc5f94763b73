"""The content service's settings (config.yml over the environment), checked when it starts."""
from pydantic import Field

from dsi.settings import PlatformSettings


class ContentSettings(PlatformSettings):
    MEDIA_DIR: str = Field(default="var/media", min_length=1, description="where uploaded images and files live")
