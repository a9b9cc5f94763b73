"""The content service's outside resources, as nameko dependency providers."""
import os
from pathlib import Path

from nameko.extensions import DependencyProvider

from dsi.database import Database
from dsi.messaging import Outbox
from dsi.settings import shared_environment, validate

from .models import Base, Outbox as OutboxTable
from .settings import ContentSettings


class MediaFolder:
    """Where uploaded images live: written once under a name made from their bytes, served as /media/{name}."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def save(self, name: str, data: bytes) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / name
        if not path.exists():
            partial = path.with_suffix(path.suffix + ".part")
            partial.write_bytes(data)
            partial.replace(path)  # readers never see half a file
        return path


class Media(DependencyProvider):
    """The media folder of the typed settings' MEDIA_DIR (var/media by default)."""

    def setup(self):
        values = {**shared_environment(), **self.container.config}
        self.folder = MediaFolder(validate(ContentSettings, values, "the content service").MEDIA_DIR)

    def get_dependency(self, worker_ctx):
        return self.folder


database = Database(Base)
outbox = Outbox(OutboxTable)
media = Media()
