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
# A crash inside the tool, not an answer of the API: hypothesis describing a lambda with ast.parse, in schemathesis'
# coverage phase, now and then hit this SystemError of CPython 3.11.7's parser (seen once in a fresh-clone run; the
# same code passed the run before). It is reported as a "Runtime Error" and fails the run.
TOOL_CRASH = "SystemError: AST constructor recursion depth mismatch"


def schemathesis(url: str, folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).with_name("schemathesis")), "run", f"{url}/api/openapi.json",
         "--checks", "all", "--exclude-checks", "positive_data_acceptance", "--max-examples", str(EXAMPLES),
         "--seed", "1", "--workers", "2", "--request-timeout", "20", "--generation-database", "none", "--no-color"],
        cwd=folder, capture_output=True, text=True, timeout=240)


@pytest.mark.timeout(660)
def test_the_api_keeps_its_openapi_contract(rabbit_config, tmp_path, free_port):
    platform = LaunchedPlatform(tmp_path, rabbit_config["AMQP_URI"], free_port, free_port + 1,
                                env={"RATE_LIMIT_SUBMIT": "1000000/hour"})
    try:
        platform.wait_until_ready()
        run = schemathesis(platform.url, tmp_path)
        if run.returncode != 0 and TOOL_CRASH in run.stdout:
            run = schemathesis(platform.url, tmp_path)  # once more: the crash was the tool's, see TOOL_CRASH
        assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-2000:]
    finally:
        platform.kill_everything()
