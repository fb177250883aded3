"""newsletter.contacts.tabular: CSV and JSON lists, whatever their delimiter, headers and quotes."""

from __future__ import annotations

import json
import os

import pytest
from helpers import cli, dump, rows, write


@pytest.fixture
def db(project):
    return project / "contacts.db"


def test_semicolon_file_with_header_aliases(project, db, monkeypatch):
    monkeypatch.chdir(project)
    name = write(
        project,
        "semi.csv",
        "E-Mail Address;First name;Last name;Organization;Position\r\n"
        "Ana.Costa@UNESCO.example.org;Ana;Costa;UNESCO;Officer, Partnerships\r\n",
    )
    result = cli(project, "contacts", "import", name)
    assert result.exit_code == 0, result.output
    assert rows(db, "SELECT email, name, job_title FROM contacts") == [
        ("ana.costa@unesco.example.org", "Ana Costa", "Officer, Partnerships")
    ]


def test_bom_file_from_the_corpus(project, db, corpus, monkeypatch):
    monkeypatch.chdir(project)
    data = (corpus / "contacts/mailmerge/mailmerge_database_with_BOM.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    result = cli(project, "contacts", "import", write(project, "bom.csv", data))
    assert result.exit_code == 0, result.output
    assert rows(db) == [("to@test.com", "My Name", "subscribed")]


def test_json_import(project, db, monkeypatch):
    monkeypatch.chdir(project)
    people = {
        "contacts": [{"Email": "a@who.example.org", "Name": "A", "Topics": ["health", "data"]}]
    }
    result = cli(project, "contacts", "import", write(project, "p.json", json.dumps(people)))
    assert result.exit_code == 0, result.output
    assert rows(db, "SELECT email, topics FROM contacts") == [("a@who.example.org", "health; data")]


@pytest.mark.parametrize(
    ("topics", "message"),
    [
        ([["health"]], "bad.json:1: 'topics' must be text, not list."),
        (["health", {"a": 1}], "bad.json:1: 'topics' must be text, not list."),
        (["health", True], "bad.json:1: 'topics' must be text, not list."),
    ],
)
def test_a_json_list_of_anything_but_words_is_refused_not_stored_as_python(
    project, db, monkeypatch, topics, message
):
    # It was stored as the text "[['health']]" or "health; {'a': 1}".
    monkeypatch.chdir(project)
    people = [{"Email": "a@who.example.org", "Name": "A", "Topics": topics}]
    result = cli(project, "contacts", "import", write(project, "bad.json", json.dumps(people)))
    assert (result.exit_code, result.output) == (
        1,
        f"{message}\nbad.json: 0 added, 0 updated, 0 unchanged, 1 rejected\n",
    )
    assert not db.exists()


BAD_FILES = {
    "empty": (b"", "Error: bad.csv: the file is empty. Export the list with a header row."),
    "blank": (
        b"\r\n \r\n",
        "Error: bad.csv: the file is empty. Export the list with a header row.",
    ),
    "header only": (
        b"Email,Name\r\n",
        "Error: bad.csv: a header but no rows. Add one row per contact.",
    ),
    "no email column": (
        b"Name,Agency\nJane,UNICEF\n",
        "Error: bad.csv:1: no email column (headers: Name, Agency). "
        "Add a column named Email with one address per row.",
    ),
    "latin-1": (
        "Email,Name\nj@unicef.example.org,Jos\u00e9\n".encode("latin-1"),
        "Error: bad.csv:2: not UTF-8 (byte 0xe9; it looks like Latin-1 or "
        "Windows-1252). Save the file as UTF-8.",
    ),
    "utf-16": (
        "Email\nj@unicef.example.org\n".encode("utf-16"),
        "Error: bad.csv: UTF-16 or binary, not UTF-8 text. Save it as UTF-8 CSV.",
    ),
    "line over MAX_LINE": (
        b"Email\n" + b"a" * (1024 * 1024 + 1) + b"\n",
        "Error: bad.csv:2: the line is longer than 1,048,576 characters; no contact row is. "
        "Check that this is the contact list, saved as CSV.",
    ),
    "quote never closed, over MAX_LINE": (
        b'Email,Name\na@who.example.org,"Ann\n' + b"b@who.example.org,Bob\n" * 50_000,
        "Error: bad.csv:2: a quote opened on this line is not closed within 1,048,576 "
        "characters. Check the quotes on line 2.",
    ),
    "JSON nested 100,000 deep": (
        b"[" * 100_000 + b"]" * 100_000,
        "Error: bad.csv: lists or objects nested more than 32 deep. "
        "A contact list is a list of objects; fix the file.",
    ),
    "JSON value nested 33 deep": (
        b'[{"Email": ' + b"[" * 32 + b"]" * 32 + b"}]",
        "Error: bad.csv: lists or objects nested more than 32 deep. "
        "A contact list is a list of objects; fix the file.",
    ),
    "two email columns": (
        b"Email,E-mail\na@b.org,c@d.org\n",
        "Error: bad.csv:1: columns 'Email' and 'E-mail' both mean email. "
        "Delete or rename one of them.",
    ),
}


@pytest.mark.parametrize("data,message", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_bad_file_is_refused_and_changes_nothing(project, db, monkeypatch, data, message):
    monkeypatch.chdir(project)
    cli(project, "contacts", "add", "keep@unicef.example.org", "--name", "Keep")
    before = dump(db)
    result = cli(project, "contacts", "import", write(project, "bad.csv", data))
    assert result.exit_code == 1
    assert result.output == message + "\n"
    assert dump(db) == before


def test_line_breaks_in_a_cell_are_folded_and_rows_keep_file_lines(project, db, monkeypatch):
    monkeypatch.chdir(project)
    name = write(
        project,
        "multi.csv",
        'Email,Name,Job title\na@who.example.org,"Ann\r\nSmith","Head of\nPartnerships"\nbad,B,C\n',
    )
    result = cli(project, "contacts", "import", name)
    assert "multi.csv:5: 'bad' is not a valid email address" in result.output  # its own line
    assert rows(db, "SELECT name, job_title FROM contacts") == [
        ("Ann Smith", "Head of Partnerships")
    ]


def test_excel_sep_line_extra_cells_and_unknown_columns(project, db, monkeypatch):
    monkeypatch.chdir(project)
    text = (
        "sep=;\r\nEmail;Name;Notes\r\n"
        "a@who.example.org;Ann, Lee;call back\r\n"
        "b@who.example.org;Bob;x;stray\r\n"
    )
    result = cli(project, "contacts", "import", write(project, "x.csv", text))
    assert result.exit_code == 3
    assert result.output.splitlines() == [
        "x.csv:4: more cells than the header has columns. Quote cells that contain the delimiter.",
        "x.csv: note: ignored columns: 'Notes'",
        "x.csv: 1 added, 0 updated, 0 unchanged, 1 rejected",
    ]
    assert rows(db, "SELECT email, name FROM contacts") == [("a@who.example.org", "Ann, Lee")]


def test_tab_separated_with_display_names(project, db, monkeypatch):
    monkeypatch.chdir(project)
    text = 'Work Email\tOrganisation/Organization\n"Doe, Jane" <Jane.Doe@WHO.example.org>\tWHO\n'
    result = cli(project, "contacts", "import", write(project, "t.tsv", text))
    assert result.exit_code == 0, result.output
    assert rows(db) == [("jane.doe@who.example.org", "Doe, Jane", "subscribed")]


BROKEN = {
    "never closed": (
        'Email,Name\na@who.example.org,"Ann\nb@who.example.org,Bob\nc@who.example.org,Cy\n',
        "Error: broken.csv:2: a quote opened on this line is not closed until line 4, so the "
        "rows in between would be lost. Check the quotes on line 2.\n",
    ),
    "closed by a later quote": (
        'Email;Name\na@who.example.org;"Ann\nb@who.example.org;Bob\nc@who.example.org;"Cy"\n'
        "d@who.example.org;Di\n",
        "Error: broken.csv:2: a quote opened on this line is not closed until line 4, so the "
        "rows in between would be lost. Check the quotes on line 2.\n",
    ),
}


@pytest.mark.parametrize("text,message", BROKEN.values(), ids=BROKEN.keys())
def test_a_quote_that_swallows_rows_refuses_the_file(project, db, monkeypatch, text, message):
    monkeypatch.chdir(project)
    cli(project, "contacts", "add", "keep@who.example.org")
    before = dump(db)
    result = cli(project, "contacts", "import", write(project, "broken.csv", text))
    assert (result.exit_code, result.output) == (1, message)
    assert dump(db) == before


def test_a_multiline_cell_without_rows_in_it_is_kept(project, db, monkeypatch):
    monkeypatch.chdir(project)
    text = (
        'Email,Name,Job title,Notes\na@who.example.org,Ann,"Head,\nPartnerships",'
        '"Geneva office,\nor write to desk@who.example.org, any day"\n'
    )
    result = cli(project, "contacts", "import", write(project, "ok.csv", text))
    assert result.output.splitlines() == [
        "ok.csv: note: ignored columns: 'Notes'",
        "ok.csv: 1 added, 0 updated, 0 unchanged, 0 rejected",
    ]
    assert rows(db, "SELECT job_title FROM contacts") == [("Head, Partnerships",)]


def test_a_huge_cell_rejects_its_row_only(project, db, monkeypatch):
    monkeypatch.chdir(project)
    text = f"Email,Name\nbig@who.example.org,{'A' * 200_000}\nok@who.example.org,Ok\n"
    result = cli(project, "contacts", "import", write(project, "huge.csv", text))
    assert result.exit_code == 3
    assert result.output.splitlines() == [
        "huge.csv:2: column 'Name' 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA…' is 200000 "
        "characters long. Shorten it to 300.",
        "huge.csv: 1 added, 0 updated, 0 unchanged, 1 rejected",
    ]
    assert rows(db, "SELECT email FROM contacts") == [("ok@who.example.org",)]


def test_a_first_line_over_128_kb_is_a_header_like_any_other(project, db, monkeypatch):
    # csv's own limit is 128 KB; this one used to end in a traceback.
    monkeypatch.chdir(project)
    text = f"Email,{'N' * 140_000}\nok@who.example.org,x\n"
    result = cli(project, "contacts", "import", write(project, "wide.csv", text))
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        f"wide.csv: note: ignored columns: '{'N' * 59}…'",
        "wide.csv: 1 added, 0 updated, 0 unchanged, 0 rejected",
    ]


def test_a_json_list_over_max_json_is_refused(project, db, monkeypatch):
    monkeypatch.chdir(project)
    monkeypatch.setattr("newsletter.contacts.tabular.MAX_JSON", 1024 * 1024)
    people = [{"Email": f"p{n}@who.example.org"} for n in range(40_000)]
    result = cli(project, "contacts", "import", write(project, "big.json", json.dumps(people)))
    assert (result.exit_code, result.output) == (
        1,
        "Error: big.json: a JSON list over 1 MB; JSON is read whole. "
        "Export a list this long as CSV, which is read row by row.\n",
    )
    assert not db.exists()  # nothing written: not even the database the command created


def test_a_fifo_is_refused_not_waited_for(project, monkeypatch):
    monkeypatch.chdir(project)
    os.mkfifo(project / "pipe.csv")
    result = cli(project, "contacts", "import", "pipe.csv")
    assert (result.exit_code, result.output) == (
        1,
        "Error: pipe.csv: not a regular file (a folder, a device or a pipe). "
        "Give the path of a CSV or JSON file.\n",
    )


EXPORTS = {
    "Google Contacts": (
        "First Name,Middle Name,Last Name,Organization Name,Organization Title,"
        "E-mail 1 - Label,E-mail 1 - Value,Phone 1 - Label,Phone 1 - Value\n"
        "Ana,,Lima,UNICEF,Officer,* Work,ana.lima@unicef.example.org,Work,+1 555 0100\n"
    ),
    "Outlook": (
        "First Name,Last Name,Company,Job Title,Business Phone,E-mail Address\n"
        "Ana,Lima,UNICEF,Officer,+1 555 0100,ana.lima@unicef.example.org\n"
    ),
}


@pytest.mark.parametrize("text", EXPORTS.values(), ids=EXPORTS.keys())
def test_address_book_exports_import_as_they_are(project, db, monkeypatch, text):
    monkeypatch.chdir(project)
    result = cli(project, "contacts", "import", write(project, "book.csv", text))
    assert result.output.splitlines()[-1] == (
        "book.csv: 1 added, 0 updated, 0 unchanged, 0 rejected"
    )
    assert rows(
        db,
        "SELECT c.email, c.name, o.name, c.job_title, c.phone FROM contacts c JOIN "
        "organisations o ON o.id = c.organisation_id",
    ) == [("ana.lima@unicef.example.org", "Ana Lima", "UNICEF", "Officer", "+1 555 0100")]


FULL = (
    "SELECT c.email, c.name, o.name, c.job_title, c.country, c.phone FROM contacts c "
    "LEFT JOIN organisations o ON o.id = c.organisation_id"
)
FRENCH_AND_SPANISH = {
    # The file of issue 12: French Excel, ";" between cells, a single Nom column.
    "French, Nom alone is the full name": (
        "Courriel;Nom;Entité;Pays;Fonction\r\n"
        "amina.okafor@unhcr.example.org;Amina Okafor;UNHCR;Suisse;Chargée de liaison\r\n",
        ("amina.okafor@unhcr.example.org", "Amina Okafor", "UNHCR", "Chargée de liaison",
         "Suisse", ""),
    ),
    "French, Nom before Prénom": (
        "Nom;Prénom;Organisation;Téléphone;Adresse électronique\r\n"
        "Dupont;Jeanne;OMS;+41 22 791 2111;Jeanne.Dupont@who.example.org\r\n",
        ("jeanne.dupont@who.example.org", "Jeanne Dupont", "OMS", "", "", "+41 22 791 2111"),
    ),
    "French, upper case without accents": (
        "PRENOM;NOM;ENTITE;FONCTION;TELEPHONE;PAYS;COURRIEL\r\n"
        "Jeanne;Dupont;OMS;Conseillère;+41 22 791 2111;France;jd@who.example.org\r\n",
        ("jd@who.example.org", "Jeanne Dupont", "OMS", "Conseillère", "France",
         "+41 22 791 2111"),
    ),
    "Spanish, Nombre and Apellido": (
        "Correo,Nombre,Apellido,Organismo,Cargo,Teléfono,País\r\n"
        "lucia.perez@cepal.example.org,Lucía,Pérez,CEPAL,Oficial,+56 2 2210 2000,Chile\r\n",
        ("lucia.perez@cepal.example.org", "Lucía Pérez", "CEPAL", "Oficial", "Chile",
         "+56 2 2210 2000"),
    ),
    "Spanish, Nombre alone is the full name": (
        "Correo electrónico;Nombre;Organismo\r\nlp@cepal.example.org;Lucía Pérez;CEPAL\r\n",
        ("lp@cepal.example.org", "Lucía Pérez", "CEPAL", "", "", ""),
    ),
}  # fmt: skip


@pytest.mark.parametrize("text,stored", FRENCH_AND_SPANISH.values(), ids=FRENCH_AND_SPANISH.keys())
def test_french_and_spanish_column_names(project, db, monkeypatch, text, stored):
    monkeypatch.chdir(project)
    result = cli(project, "contacts", "import", write(project, "liste.csv", text))
    assert result.output == "liste.csv: 1 added, 0 updated, 0 unchanged, 0 rejected\n"
    assert rows(db, FULL) == [stored]


def test_unknown_columns_are_still_named_beside_french_ones(project, db, monkeypatch):
    monkeypatch.chdir(project)
    text = "Courriel;Prénom;Nom;Remarques;Entité\na@who.example.org;Ann;Lee;à rappeler;OMS\n"
    result = cli(project, "contacts", "import", write(project, "x.csv", text))
    assert result.output.splitlines() == [
        "x.csv: note: ignored columns: 'Remarques'",
        "x.csv: 1 added, 0 updated, 0 unchanged, 0 rejected",
    ]
    assert rows(db, "SELECT email, name FROM contacts") == [("a@who.example.org", "Ann Lee")]
