"""README.md: every command documented with an example, and CI runs its test command."""

from __future__ import annotations

import re
import shutil

import click
import pytest
from helpers import REPO, cli

from newsletter.cli import main

README = (REPO / "README.md").read_text(encoding="utf-8")


def commands(group: click.Group, prefix: str = "newsletter"):
    # Through list_commands/get_command, as click's help does: the group is lazy.
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, f"{prefix} {name}: listed but cannot be loaded"
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            yield from commands(command, path)
        else:
            yield path, command


ALL = list(commands(main))


def test_there_are_commands():
    assert "newsletter build" in dict(ALL)
    assert len(ALL) > 20


@pytest.mark.parametrize("path,command", ALL, ids=[p for p, _ in ALL])
def test_command_has_a_readme_section(path, command):
    assert f"### `{path}`" in README, f"README.md has no '### `{path}`' section"


@pytest.mark.parametrize("path,command", ALL, ids=[p for p, _ in ALL])
def test_command_docstring_has_an_example(path, command):
    help_text = command.help or ""
    assert help_text.splitlines()[0].strip(), f"{path}: no one-line summary"
    assert f"Example: {path}" in help_text, f"{path}: docstring lacks 'Example: {path} ...'"


def test_quickstart_has_exactly_the_two_commands():
    quick = README.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    blocks = [b.split("\n", 1)[1].strip() for b in quick.split("```")[1::2]]
    assert blocks == [
        "pip install -e . && newsletter build 2026-Q4",
        "pip install -e '.[test]' && pytest",
    ]


def test_ci_runs_the_readme_test_command():
    ci = (REPO / ".ci" / "run").read_text()
    assert "\npip install -e '.[test]' && pytest\n" in ci


def _exit_codes_in_code() -> set[int]:
    """Every exit code the package can end with, read from its source: ``exit_code = N``
    on an error class, ``SystemExit(N)`` and ``ctx.exit(N)`` (module constants too)."""
    import ast

    found = {0}
    for path in (REPO / "newsletter").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {
            t.id: node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
            for t in node.targets
            if isinstance(t, ast.Name) and isinstance(node.value.value, int)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "exit_code" for t in node.targets
            ):
                found.add(node.value.value)  # type: ignore[attr-defined]
            if isinstance(node, ast.Call) and (
                (isinstance(node.func, ast.Name) and node.func.id == "SystemExit")
                or (isinstance(node.func, ast.Attribute) and node.func.attr == "exit")
            ):
                for inner in ast.walk(node.args[0]) if node.args else ():
                    if isinstance(inner, ast.Constant) and isinstance(inner.value, int):
                        found.add(inner.value)
                    elif isinstance(inner, ast.Name) and inner.id in constants:
                        found.add(constants[inner.id])
    return found


def test_the_exit_code_table_lists_exactly_the_codes_the_commands_use():
    from helpers import EXIT_CODES

    section = README.split("### Exit codes", 1)[1].split("\n### ", 1)[0]
    table = {int(code) for code in re.findall(r"^\| (\d+) \|", section, re.MULTILINE)}
    assert table == _exit_codes_in_code() == set(EXIT_CODES)
    assert README.count("| code | meaning |") == 1  # one table, not one per command


def test_the_limits_table_is_models_limits():
    from newsletter.models import LIMITS
    from newsletter.schema import figure

    section = README.split("Each number has one range", 1)[1].split("\n\n", 2)[1]
    found = {}
    for line in section.splitlines()[2:]:
        setting, _option, written = (cell.strip() for cell in line.strip("|").split("|"))
        found[setting.split("`")[1]] = written
    expected = {}
    for key, limit in LIMITS.items():
        # Written as the settings' errors and --help write them (schema.figure).
        low = (
            f"above {figure(limit.minimum)}, at most"
            if limit.above
            else f"{figure(limit.minimum)} to"
        )
        unit = f" {limit.unit}" if limit.unit else ""
        expected[key] = f"{low} {figure(limit.maximum)}{unit}"
    assert found == expected


def test_the_build_output_quoted_is_what_the_shipped_sample_issue_builds_to(tmp_path):
    """Figures included: the README once said email.html (49.2 KB) where the build said 64.2."""
    root = tmp_path / "sample"
    root.mkdir()
    for name in ("pyproject.toml", "contacts.db"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "templates", root / "templates")
    unbuilt = shutil.ignore_patterns("build", "outbox", "__pycache__")
    shutil.copytree(REPO / "issues", root / "issues", ignore=unbuilt)
    quoted = README.split("$ newsletter build 2026-Q4\n", 1)[1].split("```", 1)[0]
    result = cli(root, "build", "2026-Q4")
    assert result.output == quoted


def _environment_variables_in_code() -> set[str]:
    """Every variable the package or its tests read: each ``NEWSLETTER_*`` or ``AWS_*``
    name in the package, and any name read by ``os.environ.get``, ``os.getenv``,
    ``os.environ[...]`` or a click ``envvar=`` in the package or the tests."""
    import ast

    found = set()
    word = re.compile(r"\b_?(?:NEWSLETTER|AWS)_[A-Z0-9_]*[A-Z0-9]\b")
    files = [*(REPO / "newsletter").rglob("*.py"), *(REPO / "tests").glob("*.py")]
    for path in files:
        text = path.read_text(encoding="utf-8")
        if path.is_relative_to(REPO / "newsletter"):
            found |= set(word.findall(text))
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Call):
                func = ast.unparse(node.func)
                if func in ("os.environ.get", "os.getenv") and node.args:
                    arg = node.args[0]
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        found.add(arg.value)
                for keyword in node.keywords:
                    value = keyword.value
                    if keyword.arg == "envvar" and isinstance(value, ast.Constant):
                        found.add(value.value)
            if isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
                if isinstance(node.slice, ast.Constant):
                    found.add(node.slice.value)
    return found


def test_every_environment_variable_is_in_the_readme():
    section = README.split("### Environment variables", 1)[1].split("\n### ", 1)[0]
    listed = set(re.findall(r"`([A-Z_][A-Z0-9_]+)`", section))
    found = _environment_variables_in_code()
    assert {"NEWSLETTER_ACTOR", "NEWSLETTER_CHROMIUM", "AWS_PROFILE"} <= found
    assert found - listed == set(), "read but not in the README's table"


def test_the_reverse_proxy_example_passes_every_page_of_the_app(project):
    """The nginx example serves site/ itself and passes the app's pages on: every route
    but the archive's, or a reviewer's link or a counted link would find only site/'s 404."""
    from newsletter.config import load_settings
    from newsletter.server import create_app
    from newsletter.store import open_db

    open_db(project / "contacts.db").conn.close()
    app = create_app(load_settings(project), project / "contacts.db", secret=b"x" * 20)
    pages = {
        "/" + rule.rule.split("/")[1] + "/"
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in ("archive", "static") and rule.rule.count("/") > 1
    }
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    example = readme[readme.index("server {\n    listen 443 ssl;") :]
    example = example[: example.index("```")]
    passed = set(re.findall(r"location (/\S*/) \{ access_log off; proxy_pass ", example))
    assert passed == pages
