"""newsletter.cli: the command group itself: where it finds the project, usage errors."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import Result
from helpers import add_contacts, built, cli, make_issue, state

from newsletter.cli import main
from newsletter.cli.env import InRange


def test_root_from_environment(project, monkeypatch):
    make_issue(project)
    monkeypatch.setenv("NEWSLETTER_ROOT", str(project))
    result = cli(None, "check", "2026-Q4")
    assert result.exit_code == 0, result.output


# -- usage errors: exit 2 in every command, as click does, and nothing written ----------


def _commands() -> list[tuple[list[str], click.Command]]:
    """Every command of the CLI, with the words that run it (``["contacts", "add"]``)."""
    found = []

    def walk(group: click.Group, words: list[str]) -> None:
        ctx = click.Context(group)
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            if isinstance(command, click.Group):
                walk(command, [*words, name])
            elif command is not None:
                found.append(([*words, name], command))

    walk(main, [])
    return found


COMMANDS = _commands()


def _required(command: click.Command) -> list[str]:
    """Plausible values for a command's required arguments and options."""
    out: list[str] = []
    for param in command.params:
        if isinstance(param, click.Argument) and param.required:
            out.append(
                {"ISSUE_ID": "2026-Q4", "EMAIL": "a@example.org"}.get(param.name.upper(), "x")
            )
        elif isinstance(param, click.Option) and param.required:
            out += [param.opts[0], "news"]
    return out


def _bad_values(param: click.Option) -> list[str]:
    """Values click itself refuses for a typed option: wrong form, outside its range."""
    kind = param.type
    if isinstance(kind, click.Choice):
        return ["no-such-choice"]
    if isinstance(kind, click.IntRange | click.FloatRange):
        bad = ["x", "1.5"] if isinstance(kind, click.IntRange) else ["x", "nan", "1e999"]
        bad += [] if kind.min is None else [str(kind.min - 1)]
        bad += [] if kind.max is None else [str(kind.max + 1)]
        return bad
    if isinstance(kind, InRange):
        bad = ["x", "nan", "inf", "1e999", "9" * 5000, str(kind.limit.maximum * 2)]
        bad += [str(kind.limit.minimum - 1), *([str(kind.limit.minimum)] * kind.limit.above)]
        return bad + (["1.5"] if kind.limit.whole else [])
    if isinstance(kind, click.Path) and kind.exists:
        return ["no/such/file"]
    return []


def _typed_cases() -> list:
    cases = []
    for words, command in COMMANDS:
        for param in command.params:
            if isinstance(param, click.Option) and not param.is_flag:
                for value in _bad_values(param):
                    args = [*words, *_required(command), param.opts[-1], value]
                    cases.append(pytest.param(args, id=" ".join(args)[:60]))
    return cases


def _unusable(project: Path) -> None:
    """A project where everything could run: an issue built, contacts, a feed."""
    built(project)
    add_contacts(project, 2)


def _same_after(project: Path, args: list[str]) -> Result:
    before = state(project)
    result = cli(project, *args)
    assert state(project) == before
    return result


@pytest.mark.parametrize(
    "words", [pytest.param(words, id=" ".join(words)) for words, _ in COMMANDS]
)
def test_an_unknown_option_is_a_usage_error_in_every_command(project, words):
    _unusable(project)
    result = _same_after(project, [*words, "--no-such-option"])
    assert result.exit_code == 2
    assert result.output.splitlines()[-1].startswith("Error: No such option '--no-such-option'.")


@pytest.mark.parametrize(
    "words,command",
    [
        pytest.param(words, command, id=" ".join(words))
        for words, command in COMMANDS
        if any(p.required for p in command.params)
    ],
)
def test_a_missing_argument_is_a_usage_error_in_every_command(project, words, command):
    _unusable(project)
    result = _same_after(project, words)
    assert result.exit_code == 2
    assert result.output.splitlines()[-1].startswith("Error: Missing ")


@pytest.mark.parametrize("args", _typed_cases())
def test_a_bad_value_of_a_typed_option_is_a_usage_error(project, args):
    _unusable(project)
    result = _same_after(project, args)
    assert result.exit_code == 2, result.output
    assert result.output.splitlines()[-1].startswith("Error: Invalid value for ")


# The command line checks click types cannot make: each names what is wrong, exits 2
# before anything is read or written.
@pytest.mark.parametrize(
    "args,message",
    [
        (
            ["check", "2026 Q4"],
            "'2026 Q4': not a valid issue ID. Use letters, digits and dashes, such as 2026-Q4.",
        ),
        (
            ["send", "../2026-Q4", "--yes"],
            "'../2026-Q4': not a valid issue ID. Use letters, digits and dashes, such as 2026-Q4.",
        ),
        (
            ["send", "2026-Q4", "--to", "me@example.org", "--dry-run"],
            "--to and --dry-run: use one or the other.",
        ),
        (["send", "2026-Q4", "-o", "folder"], "-o folder: expected KEY=VALUE, e.g. -o port=2525."),
        (
            ["send", "2026-Q4", "--to", "not-an-address"],
            "--to 'not-an-address': address is not an email address. Correct the address and "
            "run again.",
        ),
        (
            ["send", "2026-Q4", "--yes", "-o", "concurrency=100000"],
            "-o concurrency=100000 (sender outbox): unknown option 'concurrency'. Use one of: "
            "folder.",
        ),
        (
            ["accept", "2026-Q4"],
            "issues/2026-Q4/inbox: no candidates named. Give NAME... or --all; "
            "list them with: newsletter inbox 2026-Q4",
        ),
        (
            ["reject", "2026-Q4", "a", "--all"],
            "issues/2026-Q4/inbox: give candidate names or --all, not both.",
        ),
        (
            ["contacts", "edit", "person0@example.org", "--status", "left", "--resubscribe"],
            "person0@example.org: --resubscribe and --status disagree.",
        ),
        (
            ["contacts", "edit", "nobody@example.org", "--status", "left", "--resubscribe"],
            "nobody@example.org: --resubscribe and --status disagree.",
        ),
        (
            ["feeds", "add", "https://example.org/feed", "--section", "news", "--name", " "],
            "--name: empty. Give the feed a short name, e.g. --name 'UN News'.",
        ),
        # --source is written into every history line: it was stored with its line break.
        (
            ["contacts", "import", "list.csv", "--source", "agency\r\nlist"],
            "Invalid value for '--source': 'agency\\u000d\\u000alist' is more than one line. "
            "Remove the line breaks.",
        ),
        (
            ["contacts", "unsubscribe", "person0@example.org", "--source", "x" * 2001],
            f"Invalid value for '--source': '{'x' * 39}…' is 2,001 characters long; the most "
            "is 2,000. Give a short name.",
        ),
    ],
)
def test_a_command_line_that_contradicts_itself_is_a_usage_error(project, args, message):
    _unusable(project)
    result = _same_after(project, args)
    assert result.exit_code == 2, result.output
    assert result.output.splitlines()[-1] == f"Error: {message}"


def test_the_state_helper_sees_every_change_the_usage_tests_rule_out(project):
    # helpers.state is what "changes nothing" means above: it must see each kind of write.
    built(project)
    add_contacts(project, 1)
    before = state(project)
    assert state(project) == before
    (project / "issues/2026-Q4/build/email.txt").write_text("changed")
    assert state(project) != before
    before = state(project)
    add_contacts(project, [{"email": "another@example.org"}])
    assert state(project) != before
    before = state(project)
    (project / "issues/2026-Q4/build/new.txt").write_text("new")
    assert state(project) != before


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ["accept", "2026-Q4"],
            2,
            "Error: issues/2026-Q4/inbox: no candidates named. Give NAME... or --all; "
            "list them with: newsletter inbox 2026-Q4",
        ),
        (
            ["reject", "2026-Q4", "a", "--all"],
            2,
            "Error: issues/2026-Q4/inbox: give candidate names or --all, not both.",
        ),
        (
            ["contacts", "edit", "nobody@example.org", "--name", "X"],
            1,
            "Error: 'nobody@example.org': not in contacts.db. Check the spelling with: "
            "newsletter contacts list",
        ),
        (
            ["feeds", "add", "https://example.org/feed", "--section", "gossip"],
            1,
            "Error: --section: unknown section 'gossip'. Use one of: news, tools, events, "
            "spotlight.",
        ),
        (
            ["contacts", "add", "not-an-address", "--name", "X", "--org", "Y"],
            1,
            "Error: 'not-an-address' is not a valid email address (An email address must "
            "have an @-sign). Correct it.",
        ),
    ],
)
def test_a_failed_command_leaves_no_new_contacts_db_behind(project, args, code, message):
    # The command opens contacts.db (creating it) before it finds its input wrong;
    # a command that fails leaves the project as it was, with no new database.
    make_issue(project)
    before = state(project)
    result = cli(project, *args)
    assert result.exit_code == code, result.output
    assert result.output.splitlines()[-1] == message
    assert sorted(p.name for p in project.iterdir()) == ["issues", "pyproject.toml", "templates"]
    assert state(project) == before


def test_a_failed_command_keeps_a_database_it_created_once_it_holds_a_row(project, monkeypatch):
    # Only an empty new database goes: one another program filled meanwhile stays.
    from newsletter.cli.env import Env
    from newsletter.store import feeds

    make_issue(project)
    discard = Env.discard_new_db

    def fill_first(env: Env) -> None:
        feeds.insert_feed(env.db, "https://example.org/f", "F", "news")
        discard(env)

    monkeypatch.setattr(Env, "discard_new_db", fill_first)
    result = cli(project, "accept", "2026-Q4")
    assert result.exit_code == 2, result.output
    assert (project / "contacts.db").is_file()


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (["archive", "--out", ""], "'--out'"),
        (["serve", "--site", " "], "'--site' (env var: 'NEWSLETTER_SITE')"),
        (["contacts", "export", "-o", ""], "'-o' / '--output'"),
        (["contacts", "import", ""], "'FILE'"),
    ],
)
def test_an_empty_path_is_a_usage_error_not_the_current_folder(
    project, tmp_path, monkeypatch, args, name
):
    # click reads "" as ".": archive --out "" published the site into whatever folder
    # the editor stood in. An empty name is now a mistake on the command line.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    make_issue(project)
    result = _same_after(project, args)
    assert result.exit_code == 2, result.output
    assert result.output.splitlines()[-1] == (
        f"Error: Invalid value for {name}: is empty. Give a name, such as site or contacts.csv."
    )
    assert list(elsewhere.iterdir()) == []


IN_RANGE = [
    pytest.param(words, command, param, id=" ".join([*words, param.opts[-1]]))
    for words, command in COMMANDS
    for param in command.params
    if isinstance(param, click.Option) and isinstance(param.type, InRange)
]


@pytest.mark.parametrize(("words", "command", "param"), IN_RANGE)
def test_an_option_range_in_help_is_written_as_its_error_writes_it(tmp_path, words, command, param):
    # --help wrote "0 to 100,000" for --rate while the error said "from 0 to 100000".
    helped = cli(tmp_path, *words, "--help").output
    bounds = re.search(rf"{param.opts[-1]} \S+ \((?:above )?(\S+) to (\S+)\)", helped)
    assert bounds, helped
    low, high = bounds.groups()
    too_big = str(param.type.limit.maximum * 2)
    refused = cli(tmp_path, *words, *_required(command), param.opts[-1], too_big)
    assert refused.exit_code == 2
    assert f" {low} " in refused.output and refused.output.rstrip().endswith(f" {high}.")


def test_every_option_read_from_the_environment_says_so_in_its_help(project):
    found = [([], main), *COMMANDS]
    with_env = [(w, p) for w, c in found for p in c.params if getattr(p, "envvar", None)]
    assert {p.envvar for _w, p in with_env} == {
        "NEWSLETTER_ROOT",
        "NEWSLETTER_DB",
        "NEWSLETTER_SITE",
    }
    for words, param in with_env:
        shown = " ".join(cli(project, *words, "--help").stdout.split())
        assert f"env var: {param.envvar}" in shown, (words, param.name)


def test_shell_completion_scripts_generate_and_complete_lazy_commands(tmp_path):
    """The README's line for ~/.bashrc, and what the shell then asks for on Tab."""
    import os
    import subprocess
    import sys

    script = Path(sys.executable).with_name("newsletter")  # the console script pip made
    assert script.is_file(), script
    env = {**os.environ, "_NEWSLETTER_COMPLETE": "bash_source"}
    source = subprocess.run([script], env=env, capture_output=True, text=True, timeout=60)
    assert source.returncode == 0, source.stderr
    assert "_newsletter_completion()" in source.stdout
    assert "complete -o nosort -F _newsletter_completion newsletter" in source.stdout
    for shell in ("zsh", "fish"):
        other = subprocess.run(
            [script],
            env={**env, "_NEWSLETTER_COMPLETE": f"{shell}_source"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert other.returncode == 0 and "newsletter" in other.stdout, other.stderr
    env.update(_NEWSLETTER_COMPLETE="bash_complete", COMP_WORDS="newsletter co", COMP_CWORD="1")
    words = subprocess.run([script], env=env, capture_output=True, text=True, timeout=60)
    assert words.stdout.splitlines() == ["plain,collect", "plain,contacts", "plain,contributions"]
    env.update(COMP_WORDS="newsletter contacts list --status ", COMP_CWORD="4")
    choices = subprocess.run([script], env=env, capture_output=True, text=True, timeout=60)
    assert "plain,unsubscribed" in choices.stdout.splitlines()
