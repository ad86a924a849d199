"""The shape of the code, checked: no import cycle between modules of server/ and jobs/ (imports inside
functions count: they are cycles all the same, only deferred), and no domain importing another domain's
routes (a domain offers services; its routes are its own business)."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("server", "jobs")
# Packages of server/ that hold one domain each (routes are theirs alone).
DOMAINS = {"accounts", "auth", "billing", "feedback", "notices", "uploads", "wechat", "workorders", "admin",
           "desk"}


def _modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The deepest known module that `name` refers to (a.b.c -> a.b.c, or a.b when c is an attribute)."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def _import_nodes(tree: ast.AST):
    """Every import statement, inside functions too, but not those under `if TYPE_CHECKING:` (never run)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from (n for child in node.orelse for n in _import_nodes(child))
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        yield from _import_nodes(node)


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = module.split(".")
                    base = base[: len(base) - node.level + (1 if is_package else 0)]
                    prefix = ".".join(base + ([node.module] if node.module else []))
                else:
                    prefix = node.module or ""
                targets = [f"{prefix}.{alias.name}" for alias in node.names]
            for target in targets:
                resolved = _resolve(target, modules)
                if resolved and resolved != module and not module.startswith(resolved + "."):
                    graph[module].add(resolved)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles():
    found = cycles(import_graph())
    assert found == [], "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)


def _domain(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "server" and parts[1] in DOMAINS else None


def test_no_domain_imports_another_domains_routes():
    bad = []
    for module, targets in import_graph().items():
        mine = _domain(module)
        if mine is None:
            continue
        for target in targets:
            theirs = _domain(target)
            if theirs and theirs != mine and "routes" in target.rsplit(".", 1)[-1]:
                bad.append(f"{module} -> {target}")
    assert bad == []


# Domains in layers: a domain may use its own layer and those below, never one above. Work orders know
# nothing of fees (billing settles an order's payment through workorders.payments.settle, not the reverse).
LAYERS = [{"accounts", "auth", "wechat", "uploads"}, {"workorders"}, {"notices"}, {"feedback"}, {"billing"},
          {"admin", "desk"}]


def test_domains_depend_only_downwards():
    level = {domain: n for n, layer in enumerate(LAYERS) for domain in layer}
    bad = [f"{module} -> {target}" for module, targets in import_graph().items() for target in targets
           if _domain(module) and _domain(target) and level[_domain(target)] > level[_domain(module)]]
    assert bad == []


def test_the_checker_sees_a_cycle_inside_a_function():
    graph = {"a": {"b"}, "b": {"a"}, "c": set()}
    assert cycles(graph) == [["a", "b"]]
    modules = _modules()
    assert _resolve("server.billing.services.check_pending", modules) == "server.billing.services"
