"""vault's modules as a graph: no import cycle (imports inside functions count: they are how a cycle hides),
and no module imports a private name of another (a shared helper is public, or lives where both can reach it)."""

import ast
from pathlib import Path

import vault

ROOT = Path(vault.__file__).parent


def _imports() -> dict[str, list[tuple[str, str]]]:
    """Per module: (module imported, name imported or "") for each vault import anywhere in it."""
    graph = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found = []
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found += [(a.name, "") for a in node.names if a.name.startswith("vault.")]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "vault":
                found += [(node.module, a.name) for a in node.names]
        graph[module] = found
    # `from vault.train import oracle_encoder` imports the module vault.train.oracle_encoder, not a name of the
    # package vault.train: counted as the package, it would hide a cycle through that module
    return {m: [(f"{d}.{name}", "") if f"{d}.{name}" in graph else (d, name) for d, name in found]
            for m, found in graph.items()}


def test_no_import_cycle():
    imports = _imports()
    graph = {m: {d for d, _ in found if d in imports and d != m} for m, found in imports.items()}
    done, path = set(), []

    def visit(module):
        if module in path:
            raise AssertionError("import cycle: " + " -> ".join(path[path.index(module):] + [module]))
        if module not in done:
            path.append(module)
            for dep in sorted(graph[module]):
                visit(dep)
            path.pop()
            done.add(module)

    for module in sorted(graph):
        visit(module)


def test_no_module_imports_a_private_name_of_another():
    private = [f"{m} imports {name} from {d}" for m, found in _imports().items() for d, name in found
               if name.startswith("_") and not name.startswith("__")]
    assert private == []
