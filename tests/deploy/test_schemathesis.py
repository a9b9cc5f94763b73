"""The API against its OpenAPI document, from outside, as schemathesis drives it (every check, a bounded number
of examples per operation, a fixed seed): no server error, no answer the document does not describe, no valid
invalid request accepted. (Valid requests refused — `positive_data_acceptance` — are not checked yet: rules the
document cannot state, such as latitude and longitude given together or e-mail domains reserved for tests.)"""
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import LaunchedPlatform

EXAMPLES = 5  # per operation and phase: bounded (about two minutes with the platform's start on this machine)


@pytest.mark.timeout(600)
def test_the_api_keeps_its_openapi_contract(rabbit_config, tmp_path, free_port):
    platform = LaunchedPlatform(tmp_path, rabbit_config["AMQP_URI"], free_port, free_port + 1,
                                env={"RATE_LIMIT_SUBMIT": "1000000/hour"})
    try:
        platform.wait_until_ready()
        run = subprocess.run(
            [str(Path(sys.executable).with_name("schemathesis")), "run", f"{platform.url}/api/openapi.json",
             "--checks", "all", "--exclude-checks", "positive_data_acceptance", "--max-examples", str(EXAMPLES), "--seed", "1", "--workers", "2",
             "--request-timeout", "20", "--generation-database", "none", "--no-color"],
            cwd=tmp_path, capture_output=True, text=True, timeout=480)
        assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-2000:]
    finally:
        platform.kill_everything()
