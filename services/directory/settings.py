"""The directory service's settings (config.yml over the environment), checked when it starts."""
from dsi.settings import PlatformSettings


class DirectorySettings(PlatformSettings):
    pass
