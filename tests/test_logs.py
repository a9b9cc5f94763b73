"""Log lines as operators read them: JSON objects with the traced fields, a sane request id, no secrets."""
import io
import json
import logging

from dsi import logs, redaction


def record(message, *args) -> logging.LogRecord:
    redaction.install()
    return logging.getLogger("dsi.test").makeRecord("dsi.test", logging.WARNING, __file__, 1, message, args, None)


def test_a_json_line_holds_the_traced_fields_and_no_secret():
    line = record("login of %s with password=%s refused", "moderator@example.org", "hunter2-long")
    logs.Traced("moderation").filter(line)
    parsed = json.loads(logs.JsonLines().format(line))
    assert {"time", "level", "service", "message", "request_id", "event_id"} <= set(parsed)
    assert parsed["service"] == "moderation" and parsed["level"] == "WARNING"
    assert "moderator@example.org" not in parsed["message"] and "hunter2-long" not in parsed["message"]


def test_a_request_id_is_the_clients_only_when_it_is_a_short_plain_token():
    assert logs.accepted_request_id("abc-123.x:y_z") == "abc-123.x:y_z"
    for unsafe in (None, "", "x" * 65, "two words", "line\nbreak", '{"json": 1}', "-dash-first"):
        made = logs.accepted_request_id(unsafe)
        assert made != unsafe and len(made) == 32 and made.isalnum()


def test_a_plain_line_ends_with_the_request_and_event_ids_only_when_there_are_some():
    plain = logs.TracedText("%(levelname)s %(service)s: %(message)s")
    traced = record("event handled")
    logs.Traced("search").filter(traced)
    traced.request_id, traced.event_id = "req-42", "ev-7"
    assert plain.format(traced) == "WARNING search: event handled [request=req-42 event=ev-7]"
    untraced = record("started")
    logs.Traced("search").filter(untraced)
    assert plain.format(untraced) == "WARNING search: started"


def test_a_url_keeps_its_host_and_loses_its_password():
    masked = redaction.redact("Connected to amqp://guest:s3cret@127.0.0.1:5672// and postgresql://dsi:pw@db/dsi")
    assert masked == "Connected to amqp://guest:[password]@127.0.0.1:5672// and postgresql://dsi:[password]@db/dsi"
    assert redaction.redact("write to ada@example.org") == "write to [email]"


def test_an_expected_error_is_logged_as_information_without_its_traceback():
    """A worker's expected exception (a 404, a 422) and an unexpected one, as nameko logs them, through a service's
    logging: the expected one is an INFO line without its traceback (none at LOG_LEVEL=WARNING), the unexpected
    one keeps its ERROR level and traceback."""
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    root, nameko_containers = logging.getLogger(), logging.getLogger("nameko.containers")

    def log_both():
        try:
            raise LookupError("Nothing has the record_id 5.")
        except LookupError as error:
            nameko_containers.warning("(expected) error handling worker %s: %s", "<get_record>", error, exc_info=True)
            nameko_containers.exception("error handling worker %s: %s", "<get_record>", error)
        written = lines.getvalue()
        lines.seek(0)
        lines.truncate()
        return written

    level = root.level
    root.addHandler(handler)
    try:
        logs.configure("directory")
        root.setLevel(logging.INFO)
        expected_line, unexpected = log_both().split("ERROR ", 1)
        root.setLevel(logging.WARNING)
        quiet = log_both()
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    assert expected_line.startswith("INFO (expected) error handling worker <get_record>: Nothing has the record_id 5.")
    assert "Traceback" not in expected_line
    assert unexpected.startswith("error handling worker") and "Traceback" in unexpected
    assert quiet.startswith("ERROR error handling worker") and "(expected)" not in quiet
