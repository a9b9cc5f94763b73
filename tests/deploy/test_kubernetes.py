"""deploy/k8s rendered with the real kustomize (kubectl's, as operators run it) and every object checked against
the Kubernetes API schemas (kubernetes-validate ships them: no cluster, no network), then against the platform's
own rules: probes and resources everywhere, no secret committed, only the gateway reachable from outside."""
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from kubernetes_validate import utils as schemas

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ["base", "overlays/production"]
# The oldest Kubernetes the manifests support, and the newest the validator knows.
KUBERNETES_VERSIONS = ["1.30.0", schemas.latest_version()]
WORKLOADS = {"Deployment", "StatefulSet"}
SERVICES = {"directory", "moderation", "newsletter", "content", "search", "gateway"}
AUTOSCALED = {"gateway", "search", "content"}


def render(overlay: str) -> list[dict]:
    if shutil.which("kustomize"):
        command = ["kustomize", "build", str(K8S / overlay)]
    elif shutil.which("kubectl"):
        command = ["kubectl", "kustomize", str(K8S / overlay)]
    else:
        pytest.fail("neither kustomize nor kubectl is installed: deploy/k8s cannot be rendered")
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stderr}"
    return [item for item in yaml.safe_load_all(result.stdout) if item]


@pytest.fixture(scope="module", params=OVERLAYS)
def objects(request):
    return render(request.param)


@pytest.fixture(scope="module")
def production():
    return render("overlays/production")


def of_kind(objects, *kinds):
    return [item for item in objects if item["kind"] in kinds]


def named(objects, kind, name):
    [found] = [item for item in objects if item["kind"] == kind and item["metadata"]["name"] == name]
    return found


def pod_spec(workload):
    spec = workload["spec"]["jobTemplate"]["spec"] if workload["kind"] == "CronJob" else workload["spec"]
    return spec["template"]["spec"]


def containers(workload):
    return pod_spec(workload)["containers"]


def environment(container) -> dict:
    return {variable["name"]: variable for variable in container.get("env", [])}


def config_map(objects) -> dict:
    [config] = [item for item in of_kind(objects, "ConfigMap") if item["metadata"]["name"].startswith("dsi-config")]
    return config["data"]


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_object_validates_against_the_kubernetes_schemas(objects, version):
    assert len(objects) > 30
    for item in objects:
        try:
            schemas.validate(item, version, strict=True)
        except schemas.ValidationError as error:
            pytest.fail(f"{item['kind']}/{item['metadata']['name']} is not valid Kubernetes {version}: {error}")


def test_the_validator_refuses_an_invalid_object():
    """The check above can fail: a misspelt field and a wrong type are refused."""
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"},
                  "spec": {"replicas": "two", "selector": {}, "template": {}}}
    with pytest.raises(schemas.ValidationError):
        schemas.validate(deployment, KUBERNETES_VERSIONS[0], strict=True)
    deployment["spec"] = {"replica": 2, "selector": {}, "template": {}}
    with pytest.raises(schemas.ValidationError):
        schemas.validate(deployment, KUBERNETES_VERSIONS[0], strict=True)


def test_one_workload_per_service_search_and_the_gateway_with_a_volume_per_replica(objects):
    workloads = {item["metadata"]["name"]: item for item in of_kind(objects, *WORKLOADS)}
    assert set(workloads) == SERVICES
    assert {name for name, item in workloads.items() if item["kind"] == "StatefulSet"} == {"search", "gateway"}
    for name, setting in (("search", "SEARCH_INDEX_DIR"), ("gateway", "SPOOL_DIR")):
        [claim] = workloads[name]["spec"]["volumeClaimTemplates"]
        assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]  # SQLite (the spool) and the index: one host
        [mount] = [mount for mount in containers(workloads[name])[0]["volumeMounts"]
                   if mount["name"] == claim["metadata"]["name"]]
        assert mount["mountPath"] == config_map(objects)[setting]
        assert workloads[name]["spec"]["persistentVolumeClaimRetentionPolicy"]["whenScaled"] == "Retain"
    # search's governing Service is headless (its RPCs go over RabbitMQ); the gateway's is the one the Ingress uses
    assert named(objects, "Service", workloads["search"]["spec"]["serviceName"])["spec"]["clusterIP"] == "None"
    assert workloads["gateway"]["spec"]["serviceName"] == "gateway"


def test_every_workload_has_probes_requests_and_limits(objects):
    for workload in of_kind(objects, *WORKLOADS, "Job", "CronJob"):
        for container in containers(workload):
            where = f"{workload['kind']}/{workload['metadata']['name']}"
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"].get(kind, {})), f"{where}: no {kind}"
            if workload["kind"] in WORKLOADS:
                assert "readinessProbe" in container and "livenessProbe" in container, f"{where}: no probes"


def test_probes_are_the_compose_healthchecks(objects):
    """nameko services: `dsi ping <service>` (their health RPC); the gateway: HTTP /healthz and /readyz."""
    for workload in of_kind(objects, *WORKLOADS):
        name, [container] = workload["metadata"]["name"], containers(workload)
        probes = [container[key] for key in ("readinessProbe", "livenessProbe", "startupProbe") if key in container]
        if name == "gateway":
            port = {port["name"]: port["containerPort"] for port in container["ports"]}["http"]
            assert port == 8000
            assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
            assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        else:
            for probe in probes:
                assert probe["exec"]["command"][:3] == ["dsi", "ping", name]


def test_commands_match_docker_compose(objects):
    """The same image and entrypoints as docker-compose.yml, for every service both know."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    for workload in of_kind(objects, *WORKLOADS):
        name = workload["metadata"]["name"]
        command = containers(workload)[0]["command"]
        if name in compose:
            assert command == compose[name]["command"], name
        config, target = command[command.index("--config") + 1], command[-1]
        assert config == (f"services/{name}/config.yml" if name != "gateway" else "gateway/config.yml")
        assert target.split(":")[0].split(".")[-2] == name
    for name, service in compose.items():
        if service.get("command", [None])[0] == "python":
            assert name in SERVICES, f"docker-compose runs {name}, which has no Kubernetes workload"


def test_autoscalers_and_disruption_budgets(objects):
    workloads = {item["metadata"]["name"]: item for item in of_kind(objects, *WORKLOADS)}
    scalers = {item["spec"]["scaleTargetRef"]["name"]: item for item in of_kind(objects, "HorizontalPodAutoscaler")}
    assert set(scalers) == AUTOSCALED
    for name, scaler in scalers.items():
        assert scaler["spec"]["scaleTargetRef"]["kind"] == workloads[name]["kind"]
        assert scaler["spec"]["minReplicas"] >= 2
        assert "replicas" not in workloads[name]["spec"], f"{name}: an apply would reset what its autoscaler set"
    for name, workload in workloads.items():
        if name not in AUTOSCALED:
            assert workload["spec"]["replicas"] >= 2, f"{name}: one replica has no spare during a drain"
    budgets = of_kind(objects, "PodDisruptionBudget")
    for name, workload in workloads.items():
        labels = workload["spec"]["template"]["metadata"]["labels"]
        covering = [budget for budget in budgets
                    if budget["spec"]["selector"]["matchLabels"].items() <= labels.items()]
        assert len(covering) == 1, f"{name}: {len(covering)} disruption budgets"
        assert covering[0]["spec"].get("maxUnavailable") == 1
        assert workload["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_migrations_run_as_a_job_with_every_database(objects):
    [job] = of_kind(objects, "Job")
    [container] = containers(job)
    assert container["command"] == ["dsi", "migrate"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    databases = {name for workload in of_kind(objects, *WORKLOADS) for name in environment(containers(workload)[0])
                 if name.endswith("_DB_URL")}
    assert databases == {"DIRECTORY_DB_URL", "MODERATION_DB_URL", "NEWSLETTER_DB_URL", "CONTENT_DB_URL"}
    assert set(environment(container)) == databases


def test_a_nightly_backup_of_every_database_and_the_media(objects):
    [cronjob] = of_kind(objects, "CronJob")
    [container] = containers(cronjob)
    assert container["command"][:2] == ["sh", "-c"] and container["command"][2].startswith('dsi backup "/backups/')
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    [job] = of_kind(objects, "Job")
    databases = set(environment(containers(job)[0]))
    assert databases <= set(environment(container))
    mounts = {mount["mountPath"]: mount for mount in container["volumeMounts"]}
    assert mounts[config_map(objects)["MEDIA_DIR"]]["readOnly"] is True
    volumes = {volume["name"]: volume for volume in pod_spec(cronjob)["volumes"]}
    assert volumes[mounts["/backups"]["name"]]["persistentVolumeClaim"]["claimName"] == "dsi-backups"
    assert volumes[mounts[config_map(objects)["MEDIA_DIR"]]["name"]]["persistentVolumeClaim"]["claimName"] == \
        "content-media"


def test_configuration_covers_what_the_services_read(objects):
    """Every variable a config.yml names as a connection or secret comes from the Secret, and the volumes sit
    where the ConfigMap says."""
    settings = config_map(objects)
    workloads = {item["metadata"]["name"]: containers(item)[0] for item in of_kind(objects, *WORKLOADS)}
    for name, container in workloads.items():
        config = ROOT / container["command"][container["command"].index("--config") + 1]
        if not config.exists():
            continue  # a service not on this branch yet
        env = environment(container)
        for variable in set(re.findall(r"\$\{(\w+)", config.read_text())):
            if variable.endswith("_DB_URL") or variable in ("AMQP_URI", "SMTP_PASSWORD", "SMTP_USER"):
                assert env[variable]["valueFrom"]["secretKeyRef"]["name"] == "dsi-secrets", (name, variable)
        assert container["envFrom"][0]["configMapRef"]["name"].startswith("dsi-config")
    assert "REDIS_URL" in environment(workloads["gateway"])
    mounts = {name: {mount["mountPath"] for mount in container.get("volumeMounts", [])}
              for name, container in workloads.items()}
    assert settings["SPOOL_DIR"] in mounts["gateway"]
    assert settings["MEDIA_DIR"] in mounts["content"]
    claims = {item["metadata"]["name"]: item for item in of_kind(objects, "PersistentVolumeClaim")}
    assert claims["content-media"]["spec"]["accessModes"] == ["ReadWriteMany"]


def test_no_secret_is_committed_only_a_template_with_empty_values(objects):
    assert not of_kind(objects, "Secret")
    template = yaml.safe_load((K8S / "secret.template.yaml").read_text())
    schemas.validate(template, KUBERNETES_VERSIONS[0], strict=True)
    assert template["metadata"]["name"] == "dsi-secrets"
    assert "data" not in template
    assert template["stringData"] and all(value == "" for value in template["stringData"].values())
    referenced = {variable["valueFrom"]["secretKeyRef"]["key"]
                  for workload in of_kind(objects, *WORKLOADS, "Job", "CronJob") for container in containers(workload)
                  for variable in container.get("env", []) if "secretKeyRef" in variable.get("valueFrom", {})}
    assert referenced == set(template["stringData"])


def public_sources(rule) -> bool:
    """Whether an ingress rule admits anything but the monitoring namespace's scrapers."""
    sources = rule.get("from")
    if not sources:
        return True
    return any(source.get("ipBlock") or source.get("namespaceSelector", {}).get("matchLabels")
               != {"kubernetes.io/metadata.name": "monitoring"} for source in sources)


def test_only_the_gateway_is_reachable_from_outside(objects):
    policies = of_kind(objects, "NetworkPolicy")
    [deny] = [policy for policy in policies if policy["spec"]["podSelector"] == {} and
              not policy["spec"].get("ingress") and not policy["spec"].get("egress")]
    assert set(deny["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    facing = [policy for policy in policies if any(public_sources(rule) for rule in policy["spec"].get("ingress", []))]
    assert [policy["spec"]["podSelector"] for policy in facing] == [
        {"matchLabels": {"app.kubernetes.io/name": "gateway"}}]
    [ingress] = of_kind(objects, "Ingress")
    backends = {path["backend"]["service"]["name"] for rule in ingress["spec"]["rules"]
                for path in rule["http"]["paths"]}
    assert backends == {"gateway"}
    assert named(objects, "Service", "gateway")["spec"]["selector"] == {"app.kubernetes.io/name": "gateway"}
    exposed = [item["metadata"]["name"] for item in of_kind(objects, "Service")
               if item["spec"].get("type") in ("LoadBalancer", "NodePort")]
    assert not exposed


def test_backing_services_are_external_and_reachable(objects):
    external = {item["metadata"]["name"] for item in of_kind(objects, "Service")
                if item["spec"].get("type") == "ExternalName"}
    assert {"rabbitmq", "postgres", "elasticsearch", "redis"} <= external
    allowed = {}
    for policy in of_kind(objects, "NetworkPolicy"):
        selector = policy["spec"]["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/name", "*")
        for rule in policy["spec"].get("egress", []):
            allowed.setdefault(selector, set()).update(port["port"] for port in rule.get("ports", []))
    assert {53, 5672, 5432} <= allowed["*"]
    assert 9200 in allowed["search"] and 6379 in allowed["gateway"] and 587 in allowed["newsletter"]


def test_production_pins_the_image_and_serves_tls(production):
    images = {container["image"] for workload in of_kind(production, *WORKLOADS, "Job", "CronJob")
              for container in containers(workload)}
    [image] = images
    assert ":" in image and not image.endswith(":latest")
    [namespace] = of_kind(production, "Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for item in production:
        if item["kind"] != "Namespace":
            assert item["metadata"]["namespace"] == namespace["metadata"]["name"], item["metadata"]["name"]
    [ingress] = of_kind(production, "Ingress")
    [tls] = ingress["spec"]["tls"]
    assert tls["hosts"] == [rule["host"] for rule in ingress["spec"]["rules"]]
    assert config_map(production)["PUBLIC_URL"] == f"https://{tls['hosts'][0]}"


def test_containers_run_as_the_restricted_pod_security_standard_asks(production):
    for workload in of_kind(production, *WORKLOADS, "Job", "CronJob"):
        pod = pod_spec(workload)
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"]
