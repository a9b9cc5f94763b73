"""deploy/observability: the alert rules checked and unit-tested by Prometheus' own promtool (from Debian's
prometheus package, see deploy/ensure-promtool.sh), and the dashboard's queries parsed by it; both may name only
the metrics the platform exports (dsi/metrics.py)."""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dsi import metrics

ROOT = Path(__file__).resolve().parents[2]
OBSERVABILITY = ROOT / "deploy" / "observability"
EXPORTED = set().union(*(metrics.exposed_names(metric) for metric in metrics.CATALOGUE))
# Alerts may also read Prometheus' own `up` and RabbitMQ's exporter (orphaned search queues); the dashboard not.
FROM_PROMETHEUS_AND_RABBITMQ = {"up", "rabbitmq_detailed_queue_consumers", "rabbitmq_detailed_queue_messages"}
# Words of PromQL that are not metric names (functions are recognised by their parenthesis).
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset",
            "le", "inf", "nan"}


@pytest.fixture(scope="module")
def promtool():
    found = shutil.which("promtool", path=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}")
    if not found:
        pytest.fail("promtool is missing: run deploy/ensure-promtool.sh .venv (make test does)")
    return found


def run(promtool, *args, cwd=OBSERVABILITY):
    return subprocess.run([promtool, *args], capture_output=True, text=True, cwd=cwd)


def metric_names(expr: str) -> set[str]:
    """The series an expression selects: identifiers outside label matchers, ranges, strings and groupings that
    are neither functions nor keywords."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)
    expr = re.sub(r"\{[^}]*\}", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    names = set()
    for match in re.finditer(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(\s*\()?", expr):
        word, call = match.groups()
        if not call and word.lower() not in KEYWORDS:
            names.add(word)
    return names


def alert_rules():
    return [rule for group in yaml.safe_load((OBSERVABILITY / "alerts.yml").read_text())["groups"]
            for rule in group["rules"]]


def dashboard_queries():
    dashboard = json.loads((OBSERVABILITY / "dashboard.json").read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]


def test_metric_names_are_found_in_expressions():
    assert metric_names('sum by (job) (rate(dsi_events_failed_total{code=~"5.."}[5m])) / up > 7 * 86400') == {
        "dsi_events_failed_total", "up"}


def test_the_rules_are_valid_for_prometheus(promtool):
    result = run(promtool, "check", "rules", "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 11 rules found" in result.stdout


def test_the_alerts_fire_when_they_should_and_not_before(promtool):
    result = run(promtool, "test", "rules", "alerts.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_refuses_a_broken_rule(promtool, tmp_path):
    """The checks above can fail."""
    (tmp_path / "broken.yml").write_text(yaml.safe_dump({"groups": [{"name": "x", "rules": [
        {"alert": "Broken", "expr": "sum(rate(dsi_outbox_backlog[5m]"}]}]}))
    assert run(promtool, "check", "rules", "broken.yml", cwd=tmp_path).returncode != 0


def test_the_alerts_issue_13_asks_for(promtool):
    rules = {rule["alert"]: rule for rule in alert_rules()}
    assert "dsi_outbox_oldest_age_seconds" in rules["DsiOutboxStuck"]["expr"]
    assert "> 60" in rules["DsiOutboxStuck"]["expr"]
    assert "up{" in rules["DsiServiceDown"]["expr"]
    assert "dsi_http_requests_total" in rules["DsiHighHttpErrorRate"]["expr"]
    assert "7 * 86400" in rules["DsiModerationQueueStale"]["expr"]
    assert "dsi_stale_answers_total" in rules["DsiStaleAnswers"]["expr"]
    assert "--search" in rules["DsiSearchOrphanQueue"]["expr"]


def test_alerts_name_only_exported_metrics_and_have_a_runbook():
    operations = (ROOT / "docs" / "operations.md").read_text()
    headings = {re.sub(r"[^a-z0-9 -]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
                for line in operations.splitlines() if line.startswith("#")}
    for rule in alert_rules():
        assert metric_names(rule["expr"]) <= EXPORTED | FROM_PROMETHEUS_AND_RABBITMQ, rule["alert"]
        assert rule["labels"]["severity"] in ("warning", "critical")
        runbook = rule["annotations"]["runbook"]
        assert runbook == f"docs/operations.md#{rule['alert'].lower()}"
        assert runbook.split("#")[1] in headings, f"{rule['alert']}: no runbook section in docs/operations.md"


def test_the_dashboard_shows_every_metric_and_nothing_else(promtool, tmp_path):
    queries = dashboard_queries()
    used = set().union(*(metric_names(query) for query in queries))
    assert used <= EXPORTED, f"not exported: {used - EXPORTED}"
    for metric in metrics.CATALOGUE:
        assert metrics.exposed_names(metric) & used, f"{metric._name} is on no panel"
    # Each query is valid PromQL: promtool parses them as recording rules.
    rules = [{"record": f"dashboard:query{number}", "expr": query} for number, query in enumerate(queries)]
    (tmp_path / "queries.yml").write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = run(promtool, "check", "rules", "queries.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
