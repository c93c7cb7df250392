"""Imports follow the layers, and no module imports itself back.

Layers, lowest first (an app may import its own layer and the ones below, never above):

    config (settings, env, errors, middleware, error pages, health)
    → accounts
    → availability (the scheduling core: windows, overrides, time off, resources, the
      busy ledger ``Allocation``, the booking rules, the pure slot engine)
    → bookings
    → notifications
    → payments
    → waitlist
    → reports
    → pages (what combines several apps)
    → the entry points that wire every app together: config.urls, config.api,
      config.wsgi, config.asgi

Every ``.py`` file of those apps is read with ``ast`` — imports at module level and inside
functions alike, and the string imports Django and ninja resolve (``include("…")``,
``add_router(…, "…")``, ``import_module("…")``, ``import_string("…")``). Migrations are
left out (they are history: they import what existed when they were written). Tests count
like any other module: a low app's tests build their data with their own and lower apps'
factories. ``ALLOWED_IN_TESTS`` names the few end-to-end tests that check a higher app's
effect, with the reason; nothing outside tests is ever allowed.

Model references by string (``ForeignKey("bookings.Session")``) are data, not imports, and
are not checked here.

The second test finds cycles between files: a module that imports another which imports
it back, directly or through a chain, counting imports inside functions. An import names
the module it loads (``from bookings import services`` is ``bookings.services``), not the
packages around it, so a package's ``__init__`` re-exporting its submodules is no cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYERS = [
    "config",
    "accounts",
    "availability",
    "bookings",
    "notifications",
    "payments",
    "waitlist",
    "calendar_sync",
    "webhooks",
    "intake",
    "reports",
    "pages",
]
ENTRY_POINTS = {"config.urls", "config.api", "config.wsgi", "config.asgi"}
TOP = len(LAYERS)

# (importing module, imported module) -> why this test may reach up.
ALLOWED_IN_TESTS: dict[tuple[str, str], str] = {
    ("bookings.tests.test_admin", "notifications.models"): (
        "staff calling a group session off in the admin: every attendee is told (end to end)"
    ),
}

STRING_IMPORTERS = {"include", "import_module", "import_string", "add_router"}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the imported module (or, for ``from a import b``, ``a.b`` when that is a module)
    line: int


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files(root: Path, apps: Iterable[str]) -> Iterator[Path]:
    for app in apps:
        for path in sorted((root / app).rglob("*.py")):
            if "migrations" not in path.relative_to(root).parts:
                yield path


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base[: len(base) - node.level + (1 if is_package else 0)]
    return ".".join([*base, node.module] if node.module else base)


def imports_of(path: Path, root: Path, known: set[str]) -> list[Import]:
    """Every import in the file, at any depth; ``known`` is the set of project modules."""
    module = module_name(path, root)
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(Import(module, alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, path.name == "__init__.py", node)
            submodules = [f"{target}.{alias.name}" for alias in node.names if f"{target}.{alias.name}" in known]
            if submodules:
                found.extend(Import(module, name, node.lineno) for name in submodules)
            if len(submodules) < len(node.names):
                found.append(Import(module, target, node.lineno))
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in STRING_IMPORTERS:
                for arg in node.args:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and "." in arg.value:
                        target = arg.value
                        # "app.module.attribute": the module is the longest known prefix
                        while target and target not in known and "." in target:
                            target = target.rsplit(".", 1)[0]
                        found.append(Import(module, target or arg.value, node.lineno))
    return found


def read_imports(root: Path = ROOT, apps: Iterable[str] = LAYERS) -> list[Import]:
    paths = list(source_files(root, apps))
    known = {module_name(path, root) for path in paths}
    return [found for path in paths for found in imports_of(path, root, known)]


def layer_of(module: str, layers: list[str] = LAYERS, entry_points: set[str] = ENTRY_POINTS) -> int | None:
    """The module's layer (higher is higher), or None for a module outside the apps."""
    if module in entry_points or any(module.startswith(f"{entry}.") for entry in entry_points):
        return len(layers)
    app = module.split(".")[0]
    return layers.index(app) if app in layers else None


def upward_imports(
    imports: Iterable[Import],
    *,
    layers: list[str] = LAYERS,
    entry_points: set[str] = ENTRY_POINTS,
    allowed: dict[tuple[str, str], str] = ALLOWED_IN_TESTS,
) -> list[str]:
    problems = []
    for found in imports:
        source, target = layer_of(found.module, layers, entry_points), layer_of(found.target, layers, entry_points)
        if source is None or target is None or target <= source:
            continue
        if ".tests" in f".{found.module}" and (found.module, found.target) in allowed:
            continue
        problems.append(f"{found.module} (line {found.line}) imports {found.target}, a higher layer")
    return sorted(set(problems))


def import_cycles(imports: Iterable[Import]) -> list[list[str]]:
    """The groups of modules that import each other (strongly connected components of the
    import graph between project modules, self-imports included), each sorted."""
    imports = list(imports)
    modules = {found.module for found in imports}
    graph: dict[str, set[str]] = {module: set() for module in modules}
    for found in imports:
        if found.target in modules:
            graph[found.module].add(found.target)

    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(start: str) -> None:  # Tarjan's algorithm, iterative
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1 or node in graph[node]:
                    cycles.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return sorted(cycles)


# --- the project --------------------------------------------------------------------------


def test_every_import_points_down_the_layers() -> None:
    problems = upward_imports(read_imports())
    assert not problems, "Imports that point up the layers:\n" + "\n".join(problems)


def test_no_module_imports_itself_back() -> None:
    cycles = import_cycles(read_imports())
    assert not cycles, "Import cycles between files:\n" + "\n".join(" ↔ ".join(c) for c in cycles)


def test_every_app_has_a_layer() -> None:
    apps = {path.parent.name for path in ROOT.glob("*/apps.py")}
    assert apps <= set(LAYERS), f"apps without a layer: {sorted(apps - set(LAYERS))}"


def test_the_allowed_test_imports_are_still_needed() -> None:
    stale = set(ALLOWED_IN_TESTS) - {(found.module, found.target) for found in read_imports()}
    assert not stale, f"no longer imported, drop them from ALLOWED_IN_TESTS: {sorted(stale)}"


# --- the checker itself can fail ------------------------------------------------------------


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_the_checker_reports_upward_imports(tmp_path) -> None:
    write(
        tmp_path,
        {
            "accounts/__init__.py": "",
            "accounts/models.py": "from config.errors import DomainError\n",
            "accounts/views.py": (
                "from bookings.models import Booking\n"  # module level
                "def page():\n"
                "    from notifications import services\n"  # inside a function
                "    return services\n"
            ),
            "accounts/tests/__init__.py": "",
            "accounts/tests/test_x.py": "import reports.charts\n",
            "accounts/urls.py": 'from django.urls import include\nurls = [include("pages.urls")]\n',
            "accounts/migrations/0001_initial.py": "from bookings.models import Booking\n",  # skipped
            "bookings/__init__.py": "",
            "bookings/models.py": "from accounts.models import User\nfrom availability import slots\n",  # down: fine
            "notifications/__init__.py": "",
            "notifications/services.py": "",
            "pages/__init__.py": "",
            "pages/urls.py": "",
            "reports/__init__.py": "",
            "reports/charts.py": "",
            "config/__init__.py": "",
            "config/errors.py": "",
            "config/urls.py": 'from django.urls import include\nurls = [include("pages.urls")]\n',  # top: fine
            "config/middleware.py": "from accounts.models import User\n",
        },
    )
    problems = upward_imports(read_imports(tmp_path), allowed={})
    assert problems == [
        "accounts.tests.test_x (line 1) imports reports.charts, a higher layer",
        "accounts.urls (line 2) imports pages.urls, a higher layer",
        "accounts.views (line 1) imports bookings.models, a higher layer",
        "accounts.views (line 3) imports notifications.services, a higher layer",
        "config.middleware (line 1) imports accounts.models, a higher layer",
    ]
    allowed = {("accounts.tests.test_x", "reports.charts"): "an end-to-end check"}
    assert len(upward_imports(read_imports(tmp_path), allowed=allowed)) == 4


def test_the_checker_reports_cycles(tmp_path) -> None:
    write(
        tmp_path,
        {
            "bookings/__init__.py": "",
            "bookings/services/__init__.py": "from bookings.services.common import x\n",  # re-export: no cycle
            "bookings/services/common.py": "x = 1\n",
            "bookings/services/booking.py": "from bookings.services.common import x\n",
            # a chain of three, the last link inside a function
            "bookings/a.py": "from bookings import b\n",
            "bookings/b.py": "from bookings.c import thing\n",
            "bookings/c.py": "def thing():\n    from . import a\n    return a\n",
            # a module importing itself
            "bookings/d.py": "import bookings.d\n",
        },
    )
    assert import_cycles(read_imports(tmp_path, ["bookings"])) == [
        ["bookings.a", "bookings.b", "bookings.c"],
        ["bookings.d"],
    ]
