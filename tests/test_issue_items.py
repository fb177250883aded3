"""newsletter.issue.items: an item file's front matter and summary, each problem with its line."""

from __future__ import annotations

import datetime as dt

import pytest
from helpers import GOOD_ITEM, cli, make_issue

from newsletter.issue.items import TOO_LARGE, load_item, read_item_text

P = "issues/2026-Q4/items/bad.md"


@pytest.mark.parametrize(
    "text,expected",
    [
        (
            "---\ntitle: \nsection: news\nlink: https://example.org/\n---\nBody\n",
            f"{P}:2: 'title' is missing or empty. Add 'title: ...' to the front matter.",
        ),
        (
            "---\nsection: news\nlink: https://example.org/\n---\nBody\n",
            f"{P}:1: 'title' is missing or empty. Add 'title: ...' to the front matter.",
        ),
        (
            "---\ntitle: T\nsection: gossip\nlink: https://example.org/\n---\n",
            f"{P}:3: unknown section 'gossip'. Use one of: news, tools, events, spotlight.",
        ),
        (
            "---\ntitle: T\nsection: news\ndate: 5 Oct 2026\nlink: https://example.org/\n---\n",
            f"{P}:4: date '5 Oct 2026' is not a date. Write it as YYYY-MM-DD.",
        ),
        (
            "---\ntitle: T\nsection: news\nlink: javascript:alert(1)\n---\n",
            f"{P}:4: link 'javascript:alert(1)' is not an http(s) URL. Use https://...",
        ),
        (
            '---\ntitle: T\nsection: news\nlink: "http://[bad/x"\n---\n',
            f"{P}:4: link 'http://[bad/x' is not an http(s) URL. Use https://...",
        ),
        (
            "---\ntitle: T\nsection: news\nlink: https://example.org:99999/\n---\n",
            f"{P}:4: link 'https://example.org:99999/' is not an http(s) URL. Use https://...",
        ),
        (
            "---\ntitle: T\nsection: news\nlink: ftp://example.org/f\n---\n",
            f"{P}:4: link 'ftp://example.org/f' is not an http(s) URL. Use https://...",
        ),
        (
            "---\ntitle: T\nsection: news\nlink: https://example.org/\n"
            "image: https://example.org/a.png\n---\n",
            f"{P}:5: image has no image_alt. Describe the picture in 'image_alt: ...'.",
        ),
        (
            "---\ntitle: T\nsection: news\nlink: https://example.org/\nfoo: [unclosed\n---\n",
            # The reason in brackets comes from the YAML parser (libyaml or pure Python).
            (f"{P}:6: invalid YAML front matter (", "). Check quotes, colons and indents."),
        ),
        (
            "---\ntitel: T\nsection: news\nlink: https://example.org/\n---\n",
            f"{P}:2: unknown field 'titel'. Did you mean 'title'?",
        ),
        (
            b"---\ntitle: Caf\xe9\nsection: news\n---\n",
            f"{P}:2: not UTF-8 (byte 0xe9; it looks like Latin-1 or Windows-1252). "
            "Save the file as UTF-8.",
        ),
        (
            "",
            f"{P}:1: the file is empty. Add front matter with a title and section, then a summary.",
        ),
        (
            "Just text, no front matter.\n",
            f"{P}:1: no front matter. Start the file with a '---' line, the fields, then '---'.",
        ),
        (
            "---\ntitle: T\nsection: news\nweight: heavy\nlink: https://example.org/\n---\n",
            f"{P}:4: weight 'heavy' is not a whole number. Write a whole number, such as 10 or -5.",
        ),
        (
            "---\ntitle: T\ntitle: U\nsection: news\nlink: https://example.org/\n---\n",
            f"{P}:3: 'title' appears twice. Keep one.",
        ),
    ],
    ids=[
        "empty-title",
        "missing-title",
        "unknown-section",
        "bad-date",
        "javascript-link",
        "bad-ipv6-link",
        "bad-port-link",
        "ftp-link",
        "image-without-alt",
        "invalid-yaml",
        "unknown-key-typo",
        "not-utf8",
        "empty-file",
        "no-front-matter",
        "bad-weight",
        "duplicate-key",
    ],
)
def test_bad_item_is_reported_with_path_and_line(project, text, expected):
    folder = make_issue(project, items={"good.md": GOOD_ITEM})
    data = text if isinstance(text, bytes) else text.encode("utf-8")
    (folder / "items" / "bad.md").write_bytes(data)
    result = cli(project, "check", "2026-Q4")
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    if isinstance(expected, tuple):
        assert lines[0].startswith(expected[0]) and lines[0].endswith(expected[1]), lines[0]
    else:
        assert lines[0] == expected
    assert lines[-1] == (
        "Error: 1 error in issues/2026-Q4; fix them before building. "
        "Fix the lines above and run again."
    )


@pytest.mark.parametrize(
    "text,expected",
    [
        (
            "---\ntitle: No link\nsection: news\ndate: 2026-10-05\n---\nBody\n",
            f"{P}:1: warning: no link. Add 'link: https://...' so readers can find out more.",
        ),
        (
            "---\ntitle: Old\nsection: news\nlink: https://example.org/\ndate: 2025-01-01\n---\n",
            f"{P}:5: warning: date 2025-01-01 is outside the issue window 2026-10-01 to 2026-12-31.",
        ),
        (
            "---\ntitle: Long\nsection: news\nlink: https://example.org/\n---\n" + "word " * 121,
            f"{P}:6: warning: summary has 121 words. Trim it to 120 or fewer.",
        ),
        (
            "---\ntitle: Later\nsection: news\nlink: https://example.org/\nembargo: 2999-01-01\n---\n",
            f"{P}:5: warning: embargoed until 2999-01-01; held back until then.",
        ),
    ],
    ids=["no-link", "outside-window", "long-summary", "embargo-future"],
)
def test_warnings_do_not_fail_the_check(project, text, expected):
    folder = make_issue(project, items={"good.md": GOOD_ITEM})
    (folder / "items" / "bad.md").write_text(text, encoding="utf-8")
    result = cli(project, "check", "2026-Q4")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == expected
    assert result.output.splitlines()[-1].endswith("1 warning.")


@pytest.mark.parametrize(
    "text,expected",
    [
        (
            "---\ntitle: T\nsection: news\n",
            f"{P}:1: front matter is not closed. Add a '---' line after the last field.",
        ),
        (
            "+++\ntitle = 'T'\n+++\nBody\n",
            f"{P}:1: front matter must be YAML between '---' lines (TOML or JSON is not read).",
        ),
    ],
    ids=["unclosed", "toml-front-matter"],
)
def test_front_matter_shape(project, text, expected):
    folder = make_issue(project, items={"good.md": GOOD_ITEM})
    (folder / "items" / "bad.md").write_text(text)
    result = cli(project, "check", "2026-Q4")
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == expected


def test_unreadable_item_is_a_problem_not_a_traceback(project):
    folder = make_issue(project, items={"good.md": GOOD_ITEM})
    (folder / "items" / "gone.md").symlink_to(folder / "items" / "missing-target.md")
    result = cli(project, "check", "2026-Q4")
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == (
        "issues/2026-Q4/items/gone.md: cannot be read (No such file or directory). "
        "Check the file's permissions."
    )


@pytest.mark.parametrize(
    "fields,message",
    [
        ("starts: next week", "starts 'next week' is not a date. Use YYYY-MM-DD or"),
        ("ends: 2027-03-24", "'ends' needs 'starts'"),
        ("starts: 2027-03-24\nends: 2027-03-23", "the event ends before it starts"),
        ("starts: 2027-03-24 15:00\nends: 2027-03-24 14:00", "the event ends before it starts"),
        (
            "starts: 2027-03-24\nends: 9999-12-31",
            "ends '9999-12-31' is out of range. Use a date from 0001-01-02 to 9999-12-30.",
        ),
        (
            "starts: 0001-01-01 00:30+14:00",
            "starts '0001-01-01 00:30+14:00' is out of range. Use a date from 0001-01-02",
        ),
        ("starts: 2027-03-24\nembargo: 0001-01-01", "embargo '0001-01-01' is out of range."),
        ("starts: 2027-03-24\ndate: 9999-12-31", "date '9999-12-31' is out of range."),
    ],
)
def test_event_dates_are_checked(project, fields, message):
    item = (
        f"---\ntitle: An event\nsection: events\nlink: https://example.org/e\n{fields}\n---\nX.\n"
    )
    make_issue(project, items={"event.md": item})
    result = cli(project, "check", "2026-Q4")
    assert result.exit_code == 1
    assert message in result.output


def test_an_all_day_end_on_the_start_day_is_fine(project):
    item = (
        "---\ntitle: An event\nsection: events\nlink: https://example.org/e\n"
        "starts: 2027-03-24 09:00\nends: 2027-03-24\n---\nX.\n"
    )
    make_issue(project, items={"event.md": item})
    assert cli(project, "check", "2026-Q4").exit_code == 0


EVENT_HEAD = "---\ntitle: An event\nsection: events\nlink: https://example.org/e\n"
E = "issues/2026-Q4/items/event.md"
ZONES = "Write a name from the IANA zone database, such as Europe/Geneva or America/New_York."


@pytest.mark.parametrize(
    "fields,line",
    [
        # a name the zone database does not have: the one line names file, line and field
        (
            "starts: 2027-04-20 09:30\ntimezone: Europe/Genf",
            f"{E}:6: timezone 'Europe/Genf' is not a time zone name. {ZONES}",
        ),
        (
            "starts: 2027-04-20 09:30\ntimezone: europe/zurich",
            f"{E}:6: timezone 'europe/zurich' is not a time zone name. "
            f"Did you mean 'Europe/Zurich'? {ZONES}",
        ),
        (
            "starts: 2027-04-20 09:30\ntimezone: ../../etc/passwd",
            f"{E}:6: timezone '../../etc/passwd' is not a time zone name. {ZONES}",
        ),
        (
            "starts: 2027-04-20 09:30\ntimezone: localtime",
            f"{E}:6: timezone 'localtime' is not a time zone name. {ZONES}",
        ),
        (
            "starts: 2027-04-20 09:30+02:00\ntimezone: Europe/Zurich",
            f"{E}:5: 'starts' has an offset and the item names a 'timezone'. "
            "Remove one: the zone gives the offset, summer time included.",
        ),
        (
            "timezone: Europe/Zurich",
            f"{E}:5: 'timezone' is for events and needs 'starts'. "
            "Add 'starts: YYYY-MM-DD HH:MM' for the event, or remove it.",
        ),
        (
            "location: Geneva",
            f"{E}:5: 'location' is for events and needs 'starts'. "
            "Add 'starts: YYYY-MM-DD' for the event, or remove it.",
        ),
        (
            "starts: 2027-04-20\nlocation_url: https://example.org/join",
            f"{E}:6: 'location_url' needs 'location', the text readers see. "
            "Add 'location: Online' or the place's name.",
        ),
        (
            "starts: 2027-04-20\nlocation: Online\nlocation_url: javascript:alert(1)",
            f"{E}:7: location_url 'javascript:alert(1)' is not an http(s) URL. Use https://...",
        ),
        (
            "starts: 2027-04-20\nlocation: [Geneva, Online]",
            f"{E}:6: 'location' must be text, not a list or table. Write it as text in quotes: \"...\".",
        ),
    ],
)
def test_event_fields_are_checked_in_one_line(project, fields, line):
    make_issue(project, items={"event.md": f"{EVENT_HEAD}{fields}\n---\nX.\n"})
    result = cli(project, "check", "2026-Q4")
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == line


@pytest.mark.parametrize(
    "fields,starts,ends",
    [
        # A named zone: summer time decides the offset, on each side of the switch
        # (Europe/Zurich moves to UTC+02:00 on 28 March 2027).
        (
            "starts: 2027-03-27 09:30\nends: 2027-03-29 09:30\ntimezone: Europe/Zurich",
            "2027-03-27T08:30:00+00:00",
            "2027-03-29T07:30:00+00:00",
        ),
        # A duty station the zone database names by another city keeps that clock.
        (
            "starts: 2027-03-27 09:30\nends: 2027-03-29 09:30\ntimezone: Europe/Geneva",
            "2027-03-27T08:30:00+00:00",
            "2027-03-29T07:30:00+00:00",
        ),
        # An offset as written.
        ("starts: 2027-04-20 09:30+02:00", "2027-04-20T07:30:00+00:00", None),
        # The zone applies to both; an all-day end stays a day.
        (
            "starts: 2027-04-20 09:30\nends: 2027-04-21\ntimezone: Asia/Bangkok",
            "2027-04-20T02:30:00+00:00",
            "2027-04-21",
        ),
    ],
)
def test_a_named_zone_gives_the_offset(project, fields, starts, ends):
    make_issue(project, items={"event.md": f"{EVENT_HEAD}{fields}\nlocation: Online\n---\nX.\n"})
    item, problems = load_item(project / "issues/2026-Q4/items/event.md", E, ("events",))
    assert item is not None, problems
    utc = item.starts.astimezone(dt.UTC)
    assert utc.isoformat() == starts
    assert item.location == "Online"
    if isinstance(item.ends, dt.datetime):
        assert item.ends.astimezone(dt.UTC).isoformat() == ends
    else:
        assert str(item.ends) == str(ends)


ITEM_HEAD = "---\ntitle: T\nsection: news\nlink: https://example.org/\n"
NOT_A_PICTURE = (
    "is not a JPEG, PNG or GIF picture (its address must end in .jpg, .jpeg, .png, .gif). "
    "Save the picture as JPEG or PNG; many email clients show no SVG or WebP."
)
ALIASES = "YAML aliases (*name) are not allowed in front matter. Write the value out in full."
# A kilobyte that expands to 9**8 (43 million) strings when aliases are followed.
LAUGHS = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + "".join(
    f"{chr(97 + n)}: &{chr(97 + n)} [{','.join(['*' + chr(96 + n)] * 9)}]\n" for n in range(1, 9)
)


WHOLE = "is not a whole number. Write a whole number, such as 10 or -5."
TEXT = 'Write it as text in quotes: "...".'
HTTPS = "is not an https:// address. Give the picture's https://... address."


@pytest.mark.parametrize(
    "fields,line,expected",
    [
        (
            "image: http://example.org/a.png\nimage_alt: A",
            5,
            f"image 'http://example.org/a.png' {HTTPS}",
        ),
        ("image: //example.org/a.png\nimage_alt: A", 5, f"image '//example.org/a.png' {HTTPS}"),
        (
            "image: https://e.org/a.svg\nimage_alt: A",
            5,
            f"image 'https://e.org/a.svg' {NOT_A_PICTURE}",
        ),
        (
            "image: https://e.org/a.webp\nimage_alt: A",
            5,
            f"image 'https://e.org/a.webp' {NOT_A_PICTURE}",
        ),
        (
            "image: https://e.org/a.svg?x=.png\nimage_alt: A",
            5,
            f"image 'https://e.org/a.svg?x=.png' {NOT_A_PICTURE}",
        ),
        ("weight: !!int abc", 5, f"weight 'abc' {WHOLE}"),
        ("weight: !!float abc", 5, f"weight 'abc' {WHOLE}"),
        ("undated: !!bool maybe", 5, "undated 'maybe' is not true or false. Write true or false."),
        ("date: !!timestamp garbage", 5, "date 'garbage' is not a date. Write it as YYYY-MM-DD."),
        (
            "date: !!timestamp 2026-02-30",
            5,
            "date '2026-02-30' is not a date. Write it as YYYY-MM-DD.",
        ),
        (
            "date: !!python/object/apply:os.system [ls]",
            5,
            "invalid YAML front matter (could not determine a constructor for the tag "
            "'tag:yaml.org,2002:python/object/apply:os.system'). Check quotes, colons and indents.",
        ),
        ("x: &a 3\nweight: *a", 6, ALIASES),
        ("<<: &a {weight: 3}\nsource: *a", 6, ALIASES),
        (LAUGHS + "weight: *i", 6, ALIASES),
        ("weight: " + "9" * 5000, 5, f"weight '{'9' * 39}…' {WHOLE}"),
        ("weight: [[[[[[1]]]]]]", 5, f"'weight' {WHOLE}"),
        ("weight: !!set {a, b}", 5, f"weight (a list) {WHOLE}"),
        ("source: !!binary aGVsbG8=", 5, f"source 'b'hello'' is not text. {TEXT}"),
        ("contributor: !!set {a, b}", 5, f"contributor (a list) is not text. {TEXT}"),
        (
            'weight: "3"',
            5,
            "weight '3' is text in quotes, not a whole number. Write the number without quotes.",
        ),
    ],
    ids=[
        "http-picture",
        "scheme-relative-picture",
        "svg-picture",
        "webp-picture",
        "svg-with-png-query",
        "int-tag",
        "float-tag",
        "bool-tag",
        "timestamp-tag",
        "impossible-timestamp",
        "python-tag",
        "alias",
        "merge-key-alias",
        "billion-laughs",
        "long-number",
        "nested-list",
        "set",
        "binary-text",  # was shown in the email as b'hello'
        "set-text",  # was shown as {'a', 'b'}
        "quoted-number",  # was "'3' is not a whole number", which reads as nonsense
    ],
)
def test_a_bad_front_matter_value_is_one_line(project, fields, line, expected):
    folder = make_issue(project, items={"good.md": GOOD_ITEM})
    (folder / "items" / "bad.md").write_text(f"{ITEM_HEAD}{fields}\n---\nBody.\n")
    result = cli(project, "check", "2026-Q4")
    assert result.exit_code == 1, result.output
    assert result.output.splitlines()[0] == f"{P}:{line}: {expected}"
    assert len(result.output.splitlines()) == 2


def test_a_picture_that_email_clients_show_is_accepted(project):
    fields = "image: https://example.org/team.JPEG?w=600\nimage_alt: The team"
    folder = make_issue(project, items={"good.md": GOOD_ITEM})
    (folder / "items" / "pic.md").write_text(f"{ITEM_HEAD}{fields}\n---\nBody.\n")
    result = cli(project, "check", "2026-Q4")
    assert (result.exit_code, result.output) == (
        0,
        "issues/2026-Q4: 2 items in 1 section, no problems.\n",
    )


FIELDS = (
    "title",
    "section",
    "link",
    "image",
    "image_alt",
    "date",
    "embargo",
    "starts",
    "ends",
    "weight",
    "tags",
    "source",
    "contributor",
    "collected_at",
    "feed",
    "guid",
    "undated",
    "timezone",
    "location",
    "location_url",
)
WRONG = {
    "list": "[1, [2, {a: 3}]]",
    "table": "{a: [1, 2]}",
    "number": "12345",
    "float": ".nan",
    "bool": "true",
    "date": "2026-02-30",
    "datetime": "2026-10-05 25:00:00",
    "null": "~",
    "huge": "9" * 5000,
    "set": "!!set {a, b}",
    "binary": "!!binary aGVsbG8=",
    "tag": "!!float abc",
    "long-text": "x" * 5000,
}


@pytest.mark.parametrize("kind", WRONG)
@pytest.mark.parametrize("name", FIELDS)
def test_any_value_in_any_field_is_read_or_refused_in_one_line(project, name, kind):
    folder = make_issue(project, items={"good.md": GOOD_ITEM})
    head = ITEM_HEAD if name not in ("title", "section") else "---\nlink: https://example.org/\n"
    rest = {"title": "title: T\n", "section": "section: news\n"}
    fields = "".join(v for k, v in rest.items() if k != name and name in rest)
    (folder / "items" / "bad.md").write_text(f"{head}{fields}{name}: {WRONG[kind]}\n---\nBody.\n")
    result = cli(project, "check", "2026-Q4")
    assert result.exit_code in (0, 1), result.output
    for line in result.output.splitlines():
        assert len(line) < 400, line
    if result.exit_code == 1:
        assert result.output.startswith(f"{P}:"), result.output


SECTIONS = ("news", "tools", "events", "spotlight")


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("---\nsection: news\n---\n", [(1, "title")]),
        ("---\ntitle: T\nsection: gossip\n---\n", [(3, "section")]),
        ("---\ntitle: T\nsection: news\ndate: '2026-02-30'\n---\n", [(4, "date")]),
        ("---\ntitle: T\nsection: news\nimage: https://x.org/a.png\n---\n", [(4, "image")]),
        (
            "---\ntitle: T\nsection: news\nlocation_url: https://x.org/\n---\n",
            [(4, "location_url")] * 2,
        ),
        ("---\ntitle: T\nsection: news\nends: 2026-01-01\n---\n", [(4, "ends")]),
        ("---\ntitle: T\ntitle: U\nsection: news\n---\n", [(3, "title")]),
        ("---\ntitel: T\nsection: news\n---\n", [(2, "titel")]),
        ("---\ntitle: T\nsection: news\n---\n" + "word " * 121, [(1, "link"), (5, "summary")]),
        ("---\ntitle: [\n---\n", [(3, None)]),  # no field: the YAML itself
    ],
)
def test_each_problem_names_the_field_it_concerns(tmp_path, text, found):
    path = tmp_path / "x.md"
    path.write_text(text, encoding="utf-8")
    _, problems = load_item(path, "x.md", SECTIONS)
    assert [(p.line, p.key) for p in problems] == found
    # The text not yet written is read the same way, problem for problem.
    _, same = read_item_text(text, "x", "x.md", SECTIONS)
    assert [(p.line, p.key, p.message) for p in same] == [
        (p.line, p.key, p.message) for p in problems
    ]


def test_a_text_over_the_size_of_an_item_is_refused_before_it_is_parsed():
    text = "---\ntitle: T\nsection: news\n---\n" + "x" * (1024 * 1024)
    item, problems = read_item_text(text, "x", "x.md", SECTIONS)
    assert item is None
    assert [(p.line, p.key, p.message) for p in problems] == [(None, "summary", TOO_LARGE)]
