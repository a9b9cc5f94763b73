"""Uploaded images: checked by what the bytes are (not by their name), re-encoded and resized on the server so
that no metadata (EXIF, GPS, comments) and no payload hidden in the file survives."""
import hashlib
import io

from PIL import Image as PILImage, ImageOps, UnidentifiedImageError

from dsi.errors import InvalidInput

MAX_BYTES = 5 * 1024 * 1024
MAX_SIDE = 2000  # larger images are scaled down to this many pixels on their longer side
MAX_PIXELS = 50_000_000  # what a decoder may be asked to unpack (a small file can claim a huge canvas)
FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


def reencode(data: bytes, max_bytes: int = MAX_BYTES) -> tuple[bytes, str, int, int]:
    """(new bytes, format, width, height) of an uploaded JPEG, PNG or WebP; InvalidInput for anything else."""
    if not data:
        raise InvalidInput("The file is empty.", {"file": "empty"})
    if len(data) > max_bytes:
        raise InvalidInput(f"Images may be at most {max_bytes // (1024 * 1024)} MB.", {"file": "too large"})
    try:
        with PILImage.open(io.BytesIO(data)) as probe:
            kind = probe.format
            if kind not in FORMATS:
                raise InvalidInput("Upload a JPEG, PNG or WebP image.", {"file": f"{kind} is not accepted"})
            if probe.width * probe.height > MAX_PIXELS:
                raise InvalidInput("The image is too large.", {"file": "too many pixels"})
            probe.verify()  # a truncated or corrupt file fails here
        with PILImage.open(io.BytesIO(data)) as source:
            picture = ImageOps.exif_transpose(source)  # keep the orientation the EXIF said, then drop EXIF
            picture.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, PILImage.DecompressionBombError):
        raise InvalidInput("The file is not a readable JPEG, PNG or WebP image.", {"file": "not an image"})
    picture.thumbnail((MAX_SIDE, MAX_SIDE))
    if kind == "JPEG" and picture.mode != "RGB":
        picture = picture.convert("RGB")
    elif kind != "JPEG" and picture.mode not in ("RGB", "RGBA", "L", "LA", "P"):
        picture = picture.convert("RGBA")
    out = io.BytesIO()
    options = {"JPEG": {"quality": 85, "optimize": True}, "PNG": {"optimize": True}, "WEBP": {"quality": 85}}[kind]
    picture.save(out, format=kind, **options)  # no exif=, icc_profile= or pnginfo=: nothing of the original's
    return out.getvalue(), kind, picture.width, picture.height


def file_name(data: bytes, kind: str) -> str:
    return f"{hashlib.sha256(data).hexdigest()[:32]}.{FORMATS[kind]}"
