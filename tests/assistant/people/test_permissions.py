"""The permissions file: parsing, inheritance, reloading, and the scope a
question of each asker searches."""

from __future__ import annotations

import os

import pytest

from assistant.people.identity import Asker
from assistant.people.permissions import Permissions, PermissionsFile, Readers
from assistant.retrieval.scope import Scope
from index.errors import PermissionsError, QuestionError

RULES = '"" = ["*"]\n"hr" = ["hr", "managers"]\n"hr/open.txt" = ["*"]\n"board/minutes.pdf" = ["board"]\n'
DOCS = ["a.txt", "hr/pay.txt", "hr/2024/leave.txt", "hr/open.txt", "board/minutes.pdf", "board/agenda.txt"]


@pytest.mark.parametrize("doc, groups", [
    ("a.txt", ("*",)),
    ("hr/pay.txt", ("hr", "managers")),
    ("hr/2024/leave.txt", ("hr", "managers")),  # the nearest folder with an entry
    ("hr/open.txt", ("*",)),  # a file's own entry beats its folder's
    ("board/minutes.pdf", ("board",)),
    ("board/agenda.txt", ("*",)),
])
def test_a_document_takes_its_nearest_entry(doc, groups):
    assert Permissions.parse(RULES).groups_for(doc) == groups


@pytest.mark.parametrize("groups, readable", [
    (set(), ["a.txt", "hr/open.txt", "board/agenda.txt"]),
    ({"managers"}, ["a.txt", "hr/pay.txt", "hr/2024/leave.txt", "hr/open.txt", "board/agenda.txt"]),
    ({"board", "hr"}, DOCS),
])
def test_each_group_reads_its_own_and_everyones(groups, readable):
    assert Permissions.parse(RULES).readable(DOCS, groups) == readable


def test_without_a_root_entry_the_rest_is_closed():
    rules = Permissions.parse('"hr" = ["hr"]')
    assert rules.readable(DOCS, {"hr"}) == ["hr/pay.txt", "hr/2024/leave.txt", "hr/open.txt"]
    assert rules.readable(DOCS, {"*", "everyone"}) == []


@pytest.mark.parametrize("text, says", [
    ('"" = ["*"]\n"hr" = "hr"\n', 'line 2: "hr" must list groups'),
    ('"" = ["*"]\n\n"hr" = [1, 2]\n', 'line 3: "hr" must list groups'),
    ('"" = ["*"]\n"hr" = [""]\n', 'line 2: "hr" must list groups'),
    ('"../etc" = ["*"]\n', 'line 1: "../etc" is not a path inside the documents folder'),
    ('"hr" = ["a"]\n"/hr/" = ["b"]\n', 'line 2: "/hr/" is listed twice'),
    ('"" = ["*"]\nhr = = ["hr"]\n', "line 2"),  # TOML's own message names the line
    ('[hr]\nreaders = ["hr"]\n', 'line 1: "hr" must list groups'),
])
def test_a_malformed_file_is_an_error_naming_its_line(text, says):
    with pytest.raises(PermissionsError, match=says.replace("[", r"\[").replace(".", r"\.")):
        Permissions.parse(text)


def test_the_file_is_read_again_when_it_changes_and_a_bad_change_keeps_the_last_good(tmp_path):
    path = tmp_path / ".permissions.toml"
    path.write_text('"" = ["*"]\n"hr" = ["hr"]\n', encoding="utf-8")
    rules = PermissionsFile(path)
    assert not rules.current().may_read("hr/pay.txt", {"sales"})
    path.write_text('"" = ["*"]\n"hr" = ["hr", "sales"]\n', encoding="utf-8")
    os.utime(path, ns=(1, 10**18))  # a new time even on a coarse clock
    assert rules.current().may_read("hr/pay.txt", {"sales"})
    path.write_text('"" = ["*"]\n"hr" = "everyone"\n', encoding="utf-8")
    os.utime(path, ns=(1, 2 * 10**18))
    assert rules.current().may_read("hr/pay.txt", {"sales"}) and not rules.current().may_read("hr/pay.txt", {"it"})
    path.unlink()  # a removed file does not open everything up either
    assert not rules.current().may_read("hr/pay.txt", {"it"})


def test_a_missing_file_is_an_error_when_named_and_everyone_when_not(tmp_path):
    with pytest.raises(PermissionsError, match="no permissions file"):
        PermissionsFile(tmp_path / "named.toml")
    assert PermissionsFile(tmp_path / ".permissions.toml", required=False).current() == Permissions.everyone()


def test_load_is_the_inverse_of_what_was_written(tmp_path):
    path = tmp_path / ".permissions.toml"
    path.write_text(RULES, encoding="utf-8")
    assert PermissionsFile(path).current() == Permissions.parse(RULES)


def readers(tmp_path, text: str = RULES) -> Readers:
    path = tmp_path / ".permissions.toml"
    path.write_text(text, encoding="utf-8")
    return Readers(PermissionsFile(path))


def test_a_question_searches_only_what_its_asker_may_read(tmp_path):
    sales = Asker("olga", frozenset({"sales"}))
    assert readers(tmp_path).scope_for(sales, DOCS, None) == Scope(("a.txt", "hr/open.txt", "board/agenda.txt"))
    assert readers(tmp_path).scope_for(sales, DOCS, Scope.parse("hr")) == Scope(("hr/open.txt",))
    everything = Asker("ada", frozenset({"hr", "board"}))
    assert readers(tmp_path).scope_for(everything, DOCS, None) is None  # all of it: no restriction to apply


@pytest.mark.parametrize("scope", ["hr/pay.txt", "board/minutes.pdf", "hr/2024"])
def test_a_scope_naming_what_the_asker_may_not_read_reads_as_naming_nothing(tmp_path, scope):
    sales = Asker("olga", frozenset({"sales"}))
    with pytest.raises(QuestionError) as refused:
        readers(tmp_path).scope_for(sales, DOCS, Scope.parse(scope))
    with pytest.raises(QuestionError) as absent:
        readers(tmp_path).scope_for(sales, DOCS, Scope.parse("no/such/thing.txt"))
    assert str(refused.value) == str(absent.value).replace("no/such/thing.txt", scope)


def test_no_asker_reads_nothing(tmp_path):
    assert readers(tmp_path).scope_for(None, DOCS, None) == Scope(())
    assert Readers(None).documents(None, DOCS) == [] and not Readers(None).may_read(None, "a.txt")
    assert Readers(None).scope_for(Asker("ada"), DOCS, None) is None
