"""The audit trail: what is recorded, rotation by size, retention, and the
privacy switch."""

from __future__ import annotations

import os
import time
from types import SimpleNamespace

import pytest

from assistant.people.audit import AuditLog, AuditSettings, read
from assistant.people.identity import Asker

DANA = Asker("dana", frozenset({"hr", "staff"}))


def answer(*sources: str, abstained: bool = False):
    return SimpleNamespace(citations=[SimpleNamespace(source=s) for s in sources], abstained=abstained)


def test_answers_and_votes_are_read_back_as_written(tmp_path):
    log = AuditLog(AuditSettings(tmp_path / "audit.jsonl"))
    log.answered(DANA, "How many days of leave?", "hr/", answer("hr/leave.docx", "hr/leave.docx", "a.txt"))
    log.answered(None, "Who met?", None, answer(abstained=True))
    log.voted(DANA, "How many days of leave?", answer("hr/leave.docx"), liked=False)
    records = read(tmp_path / "audit.jsonl")
    assert [{k: v for k, v in r.items() if k != "time"} for r in records] == [
        {"event": "answer", "user": "dana", "groups": ["hr", "staff"], "question": "How many days of leave?",
         "scope": ["hr/"], "cited": ["hr/leave.docx", "a.txt"], "abstained": False},
        {"event": "answer", "user": None, "groups": [], "question": "Who met?", "scope": None, "cited": [],
         "abstained": True},
        {"event": "vote", "user": "dana", "groups": ["hr", "staff"], "question": "How many days of leave?",
         "cited": ["hr/leave.docx"], "liked": False},
    ]
    assert all(r["time"].endswith("Z") for r in records)


def test_no_question_text_is_kept_when_asked_not_to(tmp_path):
    log = AuditLog(AuditSettings(tmp_path / "audit.jsonl", questions=False))
    log.answered(DANA, "Is Dana's salary 9,400?", None, answer("hr/pay.txt"))
    log.voted(DANA, "Is Dana's salary 9,400?", answer("hr/pay.txt"), liked=True)
    text = (tmp_path / "audit.jsonl").read_text(encoding="utf-8")
    assert "9,400" not in text and "salary" not in text
    assert [r["cited"] for r in read(tmp_path / "audit.jsonl")] == [["hr/pay.txt"], ["hr/pay.txt"]]


@pytest.mark.parametrize("keep", [1, 3])
def test_a_full_file_is_rotated_and_the_oldest_beyond_keep_dropped(tmp_path, keep):
    path = tmp_path / "audit.jsonl"
    log = AuditLog(AuditSettings(path, max_bytes=400, keep=keep))
    for n in range(20):
        log.answered(DANA, f"question {n}", None, answer("a.txt"))
    rotated = sorted(p.name for p in tmp_path.glob("audit.jsonl.*"))
    assert rotated == [f"audit.jsonl.{n}" for n in range(1, keep + 1)]
    assert all(p.stat().st_size <= 400 for p in tmp_path.iterdir())
    questions = [r["question"] for r in read(path)]
    assert questions == sorted(questions, key=lambda q: int(q.split()[1]))  # oldest first, none twice
    assert questions[-1] == "question 19" and len(questions) < 20


def test_rotated_files_past_the_retention_are_deleted(tmp_path):
    path = tmp_path / "audit.jsonl"
    old = tmp_path / "audit.jsonl.3"
    old.write_text('{"event": "answer"}\n', encoding="utf-8")
    week_ago = time.time() - 7 * 86400
    os.utime(old, (week_ago, week_ago))
    recent = tmp_path / "audit.jsonl.1"
    recent.write_text('{"event": "answer"}\n', encoding="utf-8")
    AuditLog(AuditSettings(path, retention_days=2))
    assert not old.exists() and recent.exists()


def test_an_audit_that_cannot_be_written_costs_no_answer(tmp_path, caplog):
    log = AuditLog(AuditSettings(tmp_path / "audit.jsonl"))
    (tmp_path / "audit.jsonl").mkdir()  # a folder where the file should be
    log.answered(DANA, "q", None, answer())
    assert "cannot be written" in caplog.text
