"""Insights from the audit trail: grouping, the lists owners read, CSV."""

from __future__ import annotations

import csv
import io

import pytest

from assistant.routes.insights import as_csv, grouped, insights

RECORDS = [
    {"event": "answer", "user": "a", "question": "How many days of annual leave?", "cited": [], "abstained": True},
    {"event": "answer", "user": "b", "question": "how many annual leave days", "cited": [], "abstained": True},
    {"event": "answer", "user": "c", "question": "Who approves travel claims?", "cited": ["hr/travel.md"],
     "abstained": False},
    {"event": "answer", "user": "c", "question": "Who approves travel claims?", "cited": ["hr/travel.md", "faq.txt"],
     "abstained": False},
    {"event": "answer", "user": "d", "question": "Where is the VPN guide?", "cited": [], "abstained": True},
    {"event": "vote", "user": "c", "question": "Who approves travel claims?", "cited": ["hr/travel.md"], "liked": False},
    {"event": "vote", "user": "d", "question": "Who approves travel claims?", "cited": ["hr/travel.md"], "liked": True},
]
DOCS = ["faq.txt", "hr/travel.md", "hr/leave.md", "it/vpn.md"]


def test_questions_the_documents_could_not_answer_are_grouped_when_similar():
    report = insights(RECORDS, DOCS)
    assert [(g["count"], len(g["asked_as"])) for g in report["unanswered"]] == [(2, 2), (1, 1)]
    assert report["unanswered"][1]["question"] == "Where is the VPN guide?"
    assert report["answers"] == 5 and report["abstained"] == 3


def test_owners_see_votes_down_most_asked_never_cited_and_folders():
    report = insights(RECORDS, DOCS)
    assert report["voted_down"] == [{"question": "Who approves travel claims?", "cited": ["hr/travel.md"],
                                     "time": None, "user": "c"}]
    assert report["most_asked"][0]["count"] == 2
    assert report["never_cited"] == ["hr/leave.md", "it/vpn.md"]
    assert report["folders"] == [{"folder": "", "documents": 1, "answers": 1, "citations": 1},
                                 {"folder": "hr/", "documents": 2, "answers": 2, "citations": 2},
                                 {"folder": "it/", "documents": 1, "answers": 0, "citations": 0}]


@pytest.mark.parametrize("questions, groups", [
    ([], 0),
    (["Leave?", "Leave?"], 1),
    (["What is the leave policy?", "Who signs travel claims?"], 2),
])
def test_grouping_edge_cases(questions, groups):
    assert len(grouped(questions)) == groups


def test_the_csv_holds_every_list():
    rows = list(csv.DictReader(io.StringIO(as_csv(insights(RECORDS, DOCS)))))
    assert {r["section"] for r in rows} == {"unanswered", "voted down", "most asked", "never cited", "folder"}
    assert any(r["section"] == "never cited" and r["item"] == "it/vpn.md" for r in rows)
