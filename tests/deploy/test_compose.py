"""docker-compose.yml cannot run here (no Docker engine); these checks keep it consistent with the code."""
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
LONG_RUNNING = {"directory", "search", "moderation", "newsletter", "content", "gateway"}


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_every_platform_service_runs_its_nameko_class(compose):
    services = compose["services"]
    assert LONG_RUNNING <= set(services)
    for name in LONG_RUNNING:
        command = services[name]["command"]
        config, target = command[command.index("--config") + 1], command[-1]
        assert (ROOT / config).is_file(), f"{name}: {config} missing"
        module, cls = target.split(":")
        folder = ROOT / Path(*module.split("."))
        assert folder.with_suffix(".py").is_file(), f"{name}: {module} missing"
        assert f"class {cls}" in folder.with_suffix(".py").read_text()


def test_dependencies_exist_and_everything_has_a_healthcheck(compose):
    services = compose["services"]
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown {dependency}"
        if name != "migrate":
            assert "healthcheck" in service, f"{name} has no healthcheck"
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["command"] == ["dsi", "migrate"]


def test_services_scale(compose):
    """--scale needs services without fixed names or host ports; the proxy is the one public door."""
    for name in LONG_RUNNING:
        assert "container_name" not in compose["services"][name]
        assert "ports" not in compose["services"][name]
    proxy = compose["services"]["proxy"]
    assert proxy["ports"] == ["8000:8000"]
    config = (ROOT / proxy["volumes"][0].split(":")[0]).read_text()
    assert "proxy_pass $gateway;" in config and "set $gateway http://gateway:8000;" in config
    assert compose["services"]["gateway"]["environment"]["PROXY_HOPS"] == "1"


def test_environment_covers_every_variable_the_configs_read(compose):
    environment = compose["services"]["directory"]["environment"]
    for config in ROOT.glob("*/**/config.yml"):
        for variable in re.findall(r"\$\{(\w+_DB_URL|AMQP_URI|PUBLIC_URL)", config.read_text()):
            assert variable in environment, f"{config}: {variable} is not set in docker-compose.yml"
    assert environment["DIRECTORY_DB_URL"].startswith("postgresql://")
    assert environment["SEARCH_BACKEND"] == "elasticsearch"
    init = (ROOT / "deploy/postgres-init.sql").read_text()
    for variable, url in environment.items():
        if variable.endswith("_DB_URL"):
            assert f"CREATE DATABASE {url.rsplit('/', 1)[1]};" in init


def test_redis_is_there_for_shared_limits(compose):
    services = compose["services"]
    assert services["gateway"]["environment"]["REDIS_URL"] == "redis://redis:6379/0"
    assert services["gateway"]["depends_on"]["redis"] == {"condition": "service_healthy"}
    assert "ports" not in services["redis"]  # only the platform reaches it


def test_the_image_builds_the_front_end_libraries_from_the_lockfile():
    """The map's libraries are not in git (gateway/static/vendor is built by deploy/vendor-assets.sh): the image
    builds them in a Node stage from package-lock.json and copies them in, and the build context leaves out any
    local copy so that it cannot drift from the lockfile."""
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    stages = re.split(r"^FROM ", dockerfile, flags=re.M)[1:]
    assets = next(stage for stage in stages if stage.split()[2:3] == ["assets"])
    assert "COPY package.json package-lock.json" in assets and "deploy/vendor-assets.sh" in assets
    final = stages[-1]
    assert final.startswith("python:3.11")
    assert re.search(r"^COPY --from=assets /src/gateway/static/vendor gateway/static/vendor$", final, re.M)
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {"node_modules", "gateway/static/vendor", ".venv", "var"} <= set(ignored)
