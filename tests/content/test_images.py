"""Uploads are checked by content and size, re-encoded, resized and stripped of their metadata."""
import base64
import io

import pytest
from PIL import Image

from dsi.errors import InvalidInput
from services.content import images, media
from services.content.dependencies import MediaFolder
from tests.content.conftest import EDITOR


def picture(kind="PNG", size=(40, 30), exif=False) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, (200, 30, 30))
    options = {}
    if exif:
        data = Image.Exif()
        data[0x010F] = "SpyCam"  # Make
        data[0x8825] = {2: (41.0, 24.0, 0.0)}  # a GPS latitude
        options["exif"] = data.tobytes()
    image.save(out, format=kind, **options)
    return out.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture
def folder(tmp_path):
    return MediaFolder(tmp_path / "media")


@pytest.mark.parametrize("kind", ["PNG", "JPEG", "WEBP"])
def test_an_image_is_stored_reencoded(session, folder, kind):
    stored = images.upload(session, folder, b64(picture(kind)), "A red square", EDITOR)
    path = folder.root / stored["url"].removeprefix("/media/")
    with Image.open(path) as saved:
        assert saved.format == kind and saved.size == (40, 30)
    assert stored["alt"] == "A red square" and stored["format"] == kind.lower()


def test_exif_and_gps_are_stripped(session, folder):
    original = picture("JPEG", exif=True)
    with Image.open(io.BytesIO(original)) as before:
        assert before.getexif().get(0x010F) == "SpyCam"
    stored = images.upload(session, folder, b64(original), "A photo", EDITOR)
    with Image.open(folder.root / stored["url"].removeprefix("/media/")) as after:
        assert not after.getexif() and "exif" not in after.info


def test_large_images_are_scaled_down(session, folder):
    stored = images.upload(session, folder, b64(picture("PNG", size=(4000, 1000))), "Wide", EDITOR)
    assert (stored["width"], stored["height"]) == (media.MAX_SIDE, 500)


def test_a_text_file_named_png_is_refused(session, folder):
    with pytest.raises(InvalidInput) as error:
        images.upload(session, folder, b64(b"<?php echo 'not an image'; ?>\n" * 10), "Fake", EDITOR)
    assert error.value.details == {"file": "not an image"}


def test_other_image_formats_are_refused(session, folder):
    with pytest.raises(InvalidInput) as error:
        images.upload(session, folder, b64(picture("GIF")), "A gif", EDITOR)
    assert "GIF" in error.value.details["file"]


def test_more_than_5_mb_is_refused(session, folder):
    big = picture("PNG") + b"\0" * (media.MAX_BYTES + 1)
    with pytest.raises(InvalidInput) as error:
        images.upload(session, folder, b64(big), "Big", EDITOR)
    assert error.value.details == {"file": "too large"}


def test_alt_text_is_required_and_base64_checked(session, folder):
    with pytest.raises(InvalidInput) as error:
        images.upload(session, folder, b64(picture()), "  ", EDITOR)
    assert error.value.details == {"alt": "required"}
    with pytest.raises(InvalidInput):
        images.upload(session, folder, "not base64!!", "Alt", EDITOR)


def test_items_refer_to_uploaded_images_only(session, outbox, folder):
    from services.content import items
    stored = images.upload(session, folder, b64(picture()), "Cover", EDITOR)
    item = items.create(session, outbox, "story", {"title": "With cover", "images": [
        {"image_id": stored["id"], "alt": "The cover"}]}, EDITOR)
    assert item.source["images"][0]["url"] == stored["url"]
    with pytest.raises(InvalidInput):
        items.create(session, outbox, "story", {"title": "T", "images": [{"image_id": "nope", "alt": "x"}]}, EDITOR)
    with pytest.raises(InvalidInput):  # alt text is required on the item too
        items.create(session, outbox, "story", {"title": "T", "images": [{"image_id": stored["id"], "alt": ""}]},
                     EDITOR)
