"""The shape of the code: no import cycle among the platform's modules, the shared package imports no service when
it is imported, and every service declares the shared package's dependencies that each worker needs."""
import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("dsi", "services", "gateway")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            found[name] = path
    return found


def _imports(name: str, path: Path, known) -> set[str]:
    """Modules of the platform that `name` imports, at the top or inside a function."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[:len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            targets.add(module)
            targets.update(f"{module}.{alias.name}" for alias in node.names)
    return {target for target in targets if target in known and target != name}


def test_no_import_cycle():
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    state, cycles = {}, []

    def visit(name, trail):
        state[name] = "open"
        trail.append(name)
        for target in sorted(graph[name]):
            if state.get(target) == "open":
                cycles.append(trail[trail.index(target):] + [target])
            elif target not in state:
                visit(target, trail)
        trail.pop()
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [])
    assert cycles == [], " ; ".join(" → ".join(cycle) for cycle in cycles)


def test_the_shared_package_imports_no_service():
    probe = ("import importlib, pkgutil, sys, dsi\n"
             "[importlib.import_module('dsi.' + m.name) for m in pkgutil.iter_modules(dsi.__path__)]\n"
             "print(sorted(n for n in sys.modules if n.startswith(('services', 'gateway'))))")
    answer = subprocess.run([sys.executable, "-W", "ignore", "-c", probe], cwd=ROOT, capture_output=True, text=True,
                            check=True)
    assert answer.stdout.strip() == "[]"


def test_every_kind_is_complete_and_found_by_its_names():
    from dsi import kinds

    assert len(set(kinds.names())) == len(kinds.KINDS)
    assert len({kind.segment for kind in kinds.KINDS}) == len(kinds.KINDS)
    for kind in kinds.KINDS:
        assert kinds.get(kind.name) is kind and kinds.by_segment(kind.segment) is kind
        fields = kind.fields_model().model_fields
        assert set(kind.form_fields) <= set(fields), kind.name
        assert kind.links is None or kind.links in fields
        assert kind.path(7) == f"/{kind.segment}/7"
    assert kinds.segment_rule("c", owner="directory") == "<any(organisations,projects):c>"


def test_every_service_declares_the_dependencies_each_worker_needs():
    """Its workers' lines carry their request (Tracing), its figures count them (Metrics), and their objects are
    freed when they end (ReleasedWorkers)."""
    import inspect

    from nameko.extensions import DependencyProvider

    from dsi.lifecycle import ReleasedWorkers
    from dsi.logs import Tracing
    from dsi.metrics import Metrics
    from dsi.platform import SERVICES, service_modules
    from gateway.service import GatewayService

    modules = {module.__name__.split(".")[1]: module for module in service_modules("service")}
    assert set(modules) == set(SERVICES)
    classes = [GatewayService] + [next(value for value in vars(module).values()
                                       if inspect.isclass(value) and getattr(value, "name", None) == name)
                                  for name, module in modules.items()]
    for service in classes:
        declared = {type(value) for _, value in inspect.getmembers(service)
                    if isinstance(value, DependencyProvider)}
        assert {Tracing, Metrics, ReleasedWorkers} <= declared, service.__name__
