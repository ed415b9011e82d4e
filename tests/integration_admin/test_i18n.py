"""English and Dutch: the browser's language picks one, the switcher changes it, every string
in the code has its Dutch translation, and the compiled catalogue matches the .po file."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import pytest

from integration_admin.labels import CATEGORY_LABELS, ERROR_TEXT, RULE_LABELS
from sync_engine.error_types import ERROR_TYPES
from sync_engine.sync.rules import SyncRule

pytestmark = pytest.mark.usefixtures("back_to_english")  # the Dutch pages switch back after

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "locale" / "nl" / "LC_MESSAGES"


def po_entries() -> dict:
    """``{msgid or (msgid, plural): msgstr or (forms)}`` from the .po file."""
    entries = {}
    for block in LOCALE.joinpath("django.po").read_text(encoding="utf-8").split("\n\n"):
        fields: dict[str, str] = {}
        key = None
        for line in block.splitlines():
            match = re.match(r'^(msgid|msgid_plural|msgstr(?:\[\d\])?) "(.*)"$', line)
            if match:
                key = match.group(1)
                fields[key] = match.group(2)
            elif line.startswith('"') and key:
                fields[key] += line[1:-1]
        if fields.get("msgid"):
            unquote = lambda s: s.encode().decode("unicode_escape").encode("latin-1").decode()  # noqa: E731
            if "msgid_plural" in fields:
                entries[(unquote(fields["msgid"]), unquote(fields["msgid_plural"]))] = (
                    unquote(fields["msgstr[0]"]),
                    unquote(fields["msgstr[1]"]),
                )
            else:
                entries[unquote(fields["msgid"])] = unquote(fields["msgstr"])
    return entries


def code_strings() -> set:
    """The literal strings our Python code and templates mark for translation."""
    found: set = set()
    for path in (ROOT / "integration_admin").rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            args = [a.value for a in node.args if isinstance(a, ast.Constant)]
            if node.func.id in ("_", "gettext", "gettext_lazy") and args:
                found.add(args[0])
            elif node.func.id == "ngettext" and len(args) >= 2:
                found.add((args[0], args[1]))
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        # Template strings reach the catalogue with "%" doubled, as makemessages writes them.
        literals = re.findall(r'{% translate "([^"]+)"', text)
        literals += re.findall(r"{% translate '([^']+)'", text)
        found.update(literal.replace("%", "%%") for literal in literals)
        found.update(re.findall(r'_\("([^"]+)"\)', text))
        for body in re.findall(r"{% blocktranslate[^%]*%}(.*?){% endblocktranslate %}", text, re.S):
            parts = re.split(r"{% plural %}", body)
            parts = [re.sub(r"{{ (\w+) }}", r"%(\1)s", p.replace("%", "%%")) for p in parts]
            found.add(tuple(parts) if len(parts) == 2 else parts[0])
    return found


def test_every_string_has_a_dutch_translation():
    entries = po_entries()
    missing = [s for s in code_strings() if not entries.get(s)]
    assert not missing, f"add these to locale/nl and compile: {missing}"
    empty = [k for k, v in entries.items() if not v or (isinstance(v, tuple) and not all(v))]
    assert not empty


def test_the_compiled_catalogue_matches_the_po_file():
    with LOCALE.joinpath("django.mo").open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)
    for key, value in po_entries().items():
        if isinstance(key, tuple):
            assert catalogue.ngettext(*key, 1) == value[0], key
            assert catalogue.ngettext(*key, 5) == value[1], key
        else:
            assert catalogue.gettext(key) == value, f"run compilemessages: {key!r}"


def test_every_engine_string_goes_through_the_translated_labels():
    for key, kind in ERROR_TYPES.items():
        text = ERROR_TEXT[key]
        assert (str(text.title), str(text.explanation), str(text.fix)) == (
            kind.title,
            kind.explanation,
            kind.fix,
        ), key
        assert kind.category in CATEGORY_LABELS
    assert {str(v) for v in RULE_LABELS.values()} == {rule.label for rule in SyncRule}


@pytest.mark.django_db
def test_the_browsers_language_picks_dutch(admin_client, connected):
    html = admin_client.get("/sync-health/", HTTP_ACCEPT_LANGUAGE="nl-NL,nl;q=0.9").content.decode()
    assert '<html lang="nl">' in html
    for text in (
        "Synchronisatiestatus", "Toegewezen aan HubSpot", "Beperkt door Salesforce",
        "Gebruikte API-oproepen", "Bijwerken", "Synchronisatiefouten", "Functies ontdekken",
    ):  # fmt: skip
        assert text in html, text
    html = admin_client.get("/contacts/", HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    for text in ("Contactpersonen maken en bijwerken", "Het contact maken of bijwerken",
                 "Niets doen", "Beperken wat synchroniseert", "+ Inclusielijst maken",
                 "Overeenkomende staat- en landvelden", "Eigenschappen van contactpersonen",
                 "Salesforce gebruiken tenzij leeg"):  # fmt: skip
        assert text in html, text
    assert "Sync health" in admin_client.get("/sync-health/").content.decode()


@pytest.mark.django_db
def test_the_switcher_changes_the_language(client, user):
    html = client.get("/login/").content.decode()
    assert 'action="/i18n/setlang/"' in html and 'value="nl"' in html
    response = client.post("/i18n/setlang/", {"language": "nl", "next": "/login/"})
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert "Taal" in client.get("/login/").content.decode()
    client.force_login(user)
    assert "Synchronisatiestatus" in client.get("/sync-health/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/sync-health/"})
    assert "Sync health" in client.get("/sync-health/").content.decode()


@pytest.mark.django_db
def test_the_switcher_names_each_language_in_itself(client):
    """A Dutch page offered "Engels": someone who reads only English can't find the way back."""
    for accept in ("en", "nl"):
        html = client.get("/login/", HTTP_ACCEPT_LANGUAGE=accept).content.decode()
        assert re.search(r'value="en"[^>]*lang="en"[^>]*>English</button>', html), accept
        assert re.search(r'value="nl"[^>]*lang="nl"[^>]*>Nederlands</button>', html), accept


def test_numbers_are_grouped_the_dutch_way_in_dutch(admin_client, connected):
    from sync_engine.models import SyncRun

    SyncRun.objects.create(
        integration=connected, object="contacts", status="succeeded",
        counts={"read_salesforce": 1200}, salesforce_calls=1234,
    )  # fmt: skip
    html = admin_client.get("/sync-health/", HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert "Gelezen uit Salesforce: 1.200" in html and ">1.234</td>" in html
    html = admin_client.get("/sync-health/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Read from Salesforce: 1,200" in html and ">1,234</td>" in html


def test_the_usage_chart_keeps_svg_numbers_in_dutch(admin_client, connected):
    from django.utils import timezone

    from tests.sync_engine.factories import ApiCallFactory

    for minutes in (5, 70, 130):
        ApiCallFactory(
            integration=connected, called_at=timezone.now() - timezone.timedelta(minutes=minutes)
        )
    html = admin_client.get("/sync-health/", HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    chart = html[html.index('<svg class="chart__svg"') : html.index("</svg>")]
    assert "<rect" in chart
    assert not re.search(r'(?:x|y|x1|x2|y1|y2|width|height)="-?\d+,\d+"', chart), chart[:500]
