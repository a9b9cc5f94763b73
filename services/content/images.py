"""Storing an uploaded image: checked and re-encoded (media.py), written to the media folder, recorded."""
import base64
import binascii

from sqlalchemy import select
from sqlalchemy.orm import Session

from dsi.clock import iso
from dsi.errors import InvalidInput

from . import media
from .models import Image


def upload(session: Session, folder, data_base64: str, alt: str, actor: str) -> dict:
    alt = (alt or "").strip()
    if not alt:
        raise InvalidInput("Describe the image for people who cannot see it.", {"alt": "required"})
    if len(alt) > 300:
        raise InvalidInput("The alt text is too long.", {"alt": "at most 300 characters"})
    if not isinstance(data_base64, str) or len(data_base64) > (media.MAX_BYTES * 4) // 3 + 8:
        raise InvalidInput(f"Images may be at most {media.MAX_BYTES // (1024 * 1024)} MB.", {"file": "too large"})
    try:
        data = base64.b64decode(data_base64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("The file is not base64.", {"file": "expected base64"})
    encoded, kind, width, height = media.reencode(data)
    name = media.file_name(encoded, kind)
    folder.save(name, encoded)
    image = session.scalar(select(Image).where(Image.filename == name))
    if image is None:
        image = Image(filename=name, format=kind.lower(), width=width, height=height, size_bytes=len(encoded),
                      alt=alt, uploaded_by=actor)
        session.add(image)
        session.flush()
    return image_view(image)


def image_view(image: Image) -> dict:
    return {"id": image.id, "url": f"/media/{image.filename}", "format": image.format, "width": image.width,
            "height": image.height, "size_bytes": image.size_bytes, "alt": image.alt,
            "created_at": iso(image.created_at)}
