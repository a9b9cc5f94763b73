"""A RabbitMQ node of the chaos suite's own, so that stopping its broker harms no other test on this machine.

Started from the installed rabbitmq-server with every file in a temporary folder (data, logs, Erlang cookie,
no plugins) on free ports, under a node name of its own. When no node can be started here, a vhost on the
shared broker stands in, and the tests that stop the broker are skipped: the shared broker at 127.0.0.1:5672
is never stopped.
"""
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import requests

from tests.processes import _die_with_parent, free_port

RABBITMQ_BIN = Path(os.environ.get("RABBITMQ_BIN", "/usr/lib/rabbitmq/bin"))
SHARED_AMQP = "pyamqp://guest:guest@127.0.0.1:5672/"
SHARED_MANAGEMENT = "http://guest:guest@127.0.0.1:15672"


def port_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class PrivateBroker:
    can_restart = True

    def __init__(self, folder: Path):
        self.folder = folder
        self.port, self.dist_port = free_port(), free_port()
        self.node = f"dsi-chaos-{uuid.uuid4().hex[:10]}@localhost"
        self.amqp_uri = f"pyamqp://guest:guest@127.0.0.1:{self.port}/"
        (folder / "enabled_plugins").write_text("[].\n")
        self.env = {**os.environ, "HOME": str(folder), "RABBITMQ_NODENAME": self.node,
                    "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1", "RABBITMQ_NODE_PORT": str(self.port),
                    "RABBITMQ_DIST_PORT": str(self.dist_port), "RABBITMQ_MNESIA_BASE": str(folder / "mnesia"),
                    "RABBITMQ_LOG_BASE": str(folder / "log"), "RABBITMQ_PID_FILE": str(folder / "pid"),
                    "RABBITMQ_ENABLED_PLUGINS_FILE": str(folder / "enabled_plugins"),
                    "RABBITMQ_CONFIG_FILE": str(folder / "rabbitmq"),
                    "RABBITMQ_ADVANCED_CONFIG_FILE": str(folder / "advanced.config"),
                    "RABBITMQ_CONF_ENV_FILE": str(folder / "rabbitmq-env.conf")}
        self.process = None

    def start(self, seconds: float = 60) -> None:
        with open(self.folder / "server.log", "ab") as output:
            self.process = subprocess.Popen([str(RABBITMQ_BIN / "rabbitmq-server")], env=self.env, cwd=self.folder,
                                            stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
                                            preexec_fn=_die_with_parent)  # rabbitmq-server execs into the node
        deadline = time.monotonic() + seconds
        while not port_answers(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.shutdown()
                raise RuntimeError(f"the private RabbitMQ node did not start; see {self.folder / 'server.log'}")
            time.sleep(0.2)

    def ctl(self, *args: str) -> None:
        subprocess.run([str(RABBITMQ_BIN / "rabbitmqctl"), "-q", "-n", self.node, *args], env=self.env,
                       check=True, capture_output=True, timeout=60)

    def stop_app(self) -> None:
        """The broker goes away (connections close, nothing answers on its port) while the node lives on."""
        self.ctl("stop_app")

    def start_app(self) -> None:
        self.ctl("start_app")
        deadline = time.monotonic() + 30
        while not port_answers(self.port) and time.monotonic() < deadline:
            time.sleep(0.2)

    def shutdown(self) -> None:
        if self.process is None:
            return
        try:
            self.ctl("shutdown")
        except (subprocess.SubprocessError, OSError):
            pass
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


class SharedBrokerVhost:
    """The fallback: a vhost of its own on the shared broker, which is never stopped."""

    can_restart = False

    def __init__(self):
        self.vhost = f"dsi-chaos-{uuid.uuid4().hex[:10]}"
        self.amqp_uri = f"{SHARED_AMQP}{self.vhost}"

    def start(self) -> None:
        requests.put(f"{SHARED_MANAGEMENT}/api/vhosts/{self.vhost}", timeout=10).raise_for_status()
        requests.put(f"{SHARED_MANAGEMENT}/api/permissions/{self.vhost}/guest",
                     json={"configure": ".*", "write": ".*", "read": ".*"}, timeout=10).raise_for_status()

    def stop_app(self) -> None:
        raise RuntimeError("the shared broker is never stopped")

    start_app = stop_app

    def shutdown(self) -> None:
        requests.delete(f"{SHARED_MANAGEMENT}/api/vhosts/{self.vhost}", timeout=10)


def start_broker(folder: Path):
    """A private node when this machine can run one, else a vhost on the shared broker."""
    if (RABBITMQ_BIN / "rabbitmq-server").exists() and shutil.which("erl") is not None:
        broker = PrivateBroker(folder)
        try:
            broker.start()
            return broker
        except RuntimeError:
            pass
    broker = SharedBrokerVhost()
    broker.start()
    return broker
