"""Typed settings: checked once at start-up, with a message naming each wrong value."""
import stat

import pytest

from dsi.settings import PUBLIC_DEV_KEY, PlatformSettings, SettingsError, development_secret, validate
from services.moderation.settings import ModerationSettings

STRONG = "k" * 40


@pytest.mark.parametrize("key", ["", PUBLIC_DEV_KEY, "short"])
def test_outside_development_a_weak_or_missing_secret_key_stops_the_start(key):
    with pytest.raises(SettingsError) as refused:
        validate(PlatformSettings, {"SECRET_KEY": key}, "the directory service")
    assert "the directory service cannot start" in str(refused.value)
    assert "SECRET_KEY" in str(refused.value)


def test_development_accepts_any_key_but_none():
    assert validate(PlatformSettings, {"SECRET_KEY": "short", "DSI_MODE": "development"}).SECRET_KEY == "short"
    with pytest.raises(SettingsError):
        validate(PlatformSettings, {"DSI_MODE": "development"})


def test_a_wrong_tunable_is_named_with_what_is_expected():
    with pytest.raises(SettingsError) as refused:
        validate(ModerationSettings, {"SECRET_KEY": STRONG, "REPORT_THRESHOLD": "many", "SESSION_HOURS": 0})
    message = str(refused.value)
    assert "REPORT_THRESHOLD: Input should be a valid integer" in message
    assert "SESSION_HOURS: Input should be greater than or equal to 1" in message


def test_config_values_arrive_typed():
    settings = validate(ModerationSettings, {"SECRET_KEY": STRONG, "REPORT_THRESHOLD": "5",
                                             "PUBLIC_URL": "https://dsi.example.org/"})
    assert settings.REPORT_THRESHOLD == 5 and settings.public_url == "https://dsi.example.org"


def test_the_development_key_is_made_once_and_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "var" / "secret_key"
    first = development_secret(path)
    assert len(first) >= 32 and first != PUBLIC_DEV_KEY
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert development_secret(path) == first
