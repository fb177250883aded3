"""The layout is the pipeline: imports go one way, the CLI uses public faces, SQL stays
in the store, and nothing registers itself by being imported (docs/architecture.md)."""

from __future__ import annotations

import ast
import importlib
from collections import defaultdict
from pathlib import Path

import pytest
from helpers import REPO

PACKAGE = REPO / "newsletter"

# Lower ranks may be imported by higher ones, never the other way round; two
# different parts of one rank may not import each other (issue and store are
# siblings). The stages are in pipeline order: a stage may read what an earlier
# stage produced (build reads the contacts' directory; send reads the build).
RANKS: dict[str, int] = {
    "newsletter": 0,  # the root package: only __version__
    "errors": 0,
    "models": 0,
    "schema": 1,
    "files": 1,
    "sanitize": 1,
    "tokens": 1,
    "config": 2,
    "download": 3,
    "issue": 4,
    "store": 4,
    "feeds": 5,
    "contacts": 6,
    "build": 7,
    "send": 8,
    "returns": 9,
    "publish": 10,
    "directory": 10,  # beside publish: neither imports the other
    "review": 10,  # beside publish and directory
    "intake": 10,  # reads contacts, and returns.dsn's verdict on auto-replies and bounces
    "server": 11,  # the whole app of serve: returns' pages and directory's
    "desk": 11,  # the editor's desk: beside server, above every stage
    "cli": 12,
    "__main__": 13,
}
STAGES = (
    "issue",
    "store",
    "feeds",
    "contacts",
    "build",
    "send",
    "returns",
    "publish",
    "directory",
    "review",
    "intake",
    "server",
)


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = modules()


def part(name: str) -> str:
    """The part of the layout a module belongs to: "store", "config", "cli"..."""
    pieces = name.split(".")
    return pieces[1] if len(pieces) > 1 else "newsletter"


def imports(path: Path) -> list[tuple[int, str, tuple[str, ...]]]:
    """(line, module imported, names taken from it) for every import, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, ()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module, tuple(a.name for a in node.names)))
    return found


def edges() -> dict[str, set[str]]:
    """Module -> the package modules it imports (``from pkg import mod`` counts as mod)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in MODULES.items():
        for _, module, names in imports(path):
            if module != "newsletter" and not module.startswith("newsletter."):
                continue
            targets = [f"{module}.{n}" for n in names if f"{module}.{n}" in MODULES]
            graph[name].update(targets or [module])
    return graph


def test_every_part_of_the_package_has_a_rank():
    assert {part(name) for name in MODULES} <= set(RANKS), set(map(part, MODULES)) - set(RANKS)


def test_imports_never_go_up_the_pipeline():
    wrong = []
    for name, targets in edges().items():
        for target in targets:
            here, there = part(name), part(target)
            if here == there:
                continue
            if RANKS[there] > RANKS[here] or RANKS[there] == RANKS[here]:
                wrong.append(f"{name} imports {target} ({here} {RANKS[here]} -> {there})")
    assert not wrong, "\n".join(wrong)


def test_there_is_no_import_cycle():
    graph = edges()
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph.get(node, ())):
            if target not in MODULES:
                continue
            if state.get(target) == 1:
                cycles.append(" -> ".join([*trail[trail.index(target) :], target]))
            elif target not in state:
                visit(target, [*trail, target])
        state[node] = 2

    for name in MODULES:
        if name not in state:
            visit(name, [name])
    # A package's __init__ importing its own modules, which import each other through
    # the package, is how Python packages work; only real module cycles count.
    real = [c for c in cycles if len({p for p in c.split(" -> ")}) > 1]
    assert not real, "\n".join(real)


@pytest.mark.parametrize("package", STAGES)
def test_each_package_names_its_public_face(package):
    module = importlib.import_module(f"newsletter.{package}")
    assert module.__doc__ and module.__doc__.strip(), f"newsletter.{package} has no docstring"
    names = getattr(module, "__all__", None)
    assert names, f"newsletter/{package}/__init__.py has no __all__"
    missing = [n for n in names if not hasattr(module, n)]
    assert not missing, f"newsletter.{package}.__all__ names what is not there: {missing}"


def test_the_cli_imports_only_public_faces():
    wrong = []
    for name, path in MODULES.items():
        if part(name) not in ("cli", "desk"):  # the desk calls the stages as the CLI does
            continue
        for line, module, names in imports(path):
            pieces = module.split(".")
            if pieces[0] != "newsletter" or len(pieces) < 2 or pieces[1] not in STAGES:
                continue
            if len(pieces) > 2:
                wrong.append(f"{path.name}:{line}: imports {module}, not newsletter.{pieces[1]}")
                continue
            public = importlib.import_module(module).__all__
            wrong += [
                f"{path.name}:{line}: {module}.{n} is not public" for n in names if n not in public
            ]
    assert not wrong, "\n".join(wrong)


SQL_CALLS = {"execute", "executemany", "executescript", "query", "atomic"}
# What the desk may take from the store: a connection, never a table's module.
DESK_STORE = {"Database", "DatabaseError", "open_db"}
# File calls: the desk reads and writes an issue's files only through the stages.
FILE_CALLS = {
    "open",
    "read_text",
    "write_text",
    "read_bytes",
    "write_bytes",
    "unlink",
    "rename",
    "replace",
    "mkdir",
    "rmdir",
    "touch",
    "iterdir",
    "glob",
    "rglob",
    "exists",
    "is_file",
    "is_dir",
    "stat",
}


def test_the_desk_touches_sql_and_files_only_through_the_stages():
    wrong = []
    for name, path in MODULES.items():
        if part(name) != "desk":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if called in FILE_CALLS:
                    wrong.append(f"{name}:{node.lineno}: {called}(...)")
        for line, module, names in imports(path):
            if module.split(".")[0] in (
                "os",
                "shutil",
                "tempfile",
                "io",
                "sqlite3",
                "sqlite_utils",
            ):
                wrong.append(f"{name}:{line}: imports {module}")
            if module == "newsletter.store" and set(names) - DESK_STORE:
                wrong.append(f"{name}:{line}: takes {set(names) - DESK_STORE} from the store")
    assert not wrong, "\n".join(wrong)


def test_sql_is_written_only_in_the_store():
    wrong = []
    for name, path in MODULES.items():
        if part(name) == "store":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if node.func.attr in SQL_CALLS:
                    wrong.append(f"{name}:{node.lineno}: .{node.func.attr}(...)")
            if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
                if node.value.id == "db":
                    wrong.append(f"{name}:{node.lineno}: db[...]")
        for line, module, _ in imports(path):
            if module.split(".")[0] in ("sqlite3", "sqlite_utils"):
                wrong.append(f"{name}:{line}: imports {module}")
    assert not wrong, "\n".join(wrong)


def test_nothing_is_imported_by_a_name_string():
    wrong = []
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in ("import_module", "__import__"):
                wrong.append(f"{name}:{node.lineno}: {called}(...)")
    assert not wrong, "\n".join(wrong)


# What a module may do at its top level: define and import things. A call there
# (such as appending to another module's list of hooks) would make behaviour
# depend on which modules happen to be imported.
ALLOWED_TOP_LEVEL = (
    ast.Import,
    ast.ImportFrom,
    ast.Assign,
    ast.AnnAssign,
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.If,  # if TYPE_CHECKING:
    ast.Try,  # try: import the C loader, except ImportError: the Python one
)


def test_no_module_registers_anything_when_imported():
    wrong = []
    for name, path in MODULES.items():
        if name == "newsletter.__main__":
            continue  # running the program is its whole purpose
        body = ast.parse(path.read_text(encoding="utf-8")).body
        for n, node in enumerate(body):
            docstring = (
                n == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            )
            if not docstring and not isinstance(node, ALLOWED_TOP_LEVEL):
                wrong.append(f"{name}:{node.lineno}: {type(node).__name__} at the top level")
    assert not wrong, "\n".join(wrong)


def test_the_top_level_holds_at_most_ten_modules():
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= 10, top


def test_every_package_is_described_in_the_architecture_page():
    page = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    packages = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file())
    missing = [p for p in packages if f"`{p}/`" not in page]
    assert not missing, f"docs/architecture.md does not describe: {missing}"
    modules_ = sorted(p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py")
    missing = [m for m in modules_ if f"`{m}`" not in page]
    assert not missing, f"docs/architecture.md does not describe: {missing}"


def test_the_readme_links_the_architecture_page():
    assert "docs/architecture.md" in (REPO / "README.md").read_text(encoding="utf-8")


def test_no_function_is_too_complex():
    """radon's cyclomatic-complexity rank: A to D pass; E (31+) and F (41+) do not."""
    cc = pytest.importorskip("radon.complexity", reason="radon is not installed (test extras)")
    ranked = []
    for name, path in MODULES.items():
        for block in cc.cc_visit(path.read_text(encoding="utf-8")):
            rank = cc.cc_rank(block.complexity)
            if rank in ("E", "F"):
                ranked.append(f"{name}:{block.lineno} {block.name}: {rank} ({block.complexity})")
    assert not ranked, "\n".join(ranked)
