"""What the audit trail tells document owners: questions the documents could
not answer (similar ones grouped), answers voted down, the most asked
questions, documents never cited, and counts per folder.

    >>> records = [
    ...     {"event": "answer", "question": "How many days of leave?", "cited": [], "abstained": True},
    ...     {"event": "answer", "question": "how many leave days?", "cited": [], "abstained": True},
    ...     {"event": "answer", "question": "Who signs travel claims?", "cited": ["hr/travel.md"], "abstained": False},
    ... ]
    >>> report = insights(records, ["hr/travel.md", "it/vpn.md"])
    >>> report["unanswered"][0]["count"], report["never_cited"], report["folders"][0]["folder"]
    (2, ['it/vpn.md'], 'hr/')
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from typing import Iterable, Sequence

from index.storage.lexical import tokenize

SIMILAR = 0.5  # share of content words two questions must share to be grouped
LISTED = 50  # entries per list


def question_key(question: str) -> frozenset[str]:
    """A question's stemmed content words: what "similar" compares.

    >>> sorted(question_key("How many days of leave?")) == sorted(question_key("how many leave days"))
    True
    """
    return frozenset(tokenize(question)) or frozenset(re.findall(r"\w+", question.lower()))


def similar(a: frozenset[str], b: frozenset[str]) -> bool:
    return bool(a and b) and len(a & b) / len(a | b) >= SIMILAR


def grouped(questions: Iterable[str]) -> list[dict]:
    """Questions grouped with the first similar one seen (most frequent groups first)."""
    groups: list[tuple[frozenset[str], list[str]]] = []
    for question in questions:
        key = question_key(question)
        for seen_key, members in groups:
            if similar(key, seen_key):
                members.append(question)
                break
        else:
            groups.append((key, [question]))
    ranked = sorted(groups, key=lambda group: -len(group[1]))[:LISTED]
    return [{"question": Counter(m).most_common(1)[0][0], "count": len(m), "asked_as": sorted(set(m))[:10]}
            for _, m in ranked]


def folder_of(doc_id: str) -> str:
    """A document's top folder ("" for the documents folder itself).

    >>> folder_of("hr/pay/2024.pdf"), folder_of("notes.txt")
    ('hr/', '')
    """
    return doc_id.split("/", 1)[0] + "/" if "/" in doc_id else ""


def insights(records: Sequence[dict], doc_ids: Sequence[str]) -> dict:
    """The report ``GET /api/insights`` returns."""
    answers = [r for r in records if r.get("event") == "answer"]
    votes = [r for r in records if r.get("event") == "vote"]
    asked = [r["question"] for r in answers if r.get("question")]
    cited = Counter(doc for r in answers for doc in r.get("cited", []))
    folders: dict[str, Counter] = {}
    for doc in doc_ids:
        folders.setdefault(folder_of(doc), Counter())["documents"] += 1
    for doc, count in cited.items():
        folders.setdefault(folder_of(doc), Counter())["citations"] += count
    for r in answers:
        for folder in {folder_of(doc) for doc in r.get("cited", [])}:
            folders[folder]["answers"] += 1
    return {
        "answers": len(answers),
        "abstained": sum(bool(r.get("abstained")) for r in answers),
        "unanswered": grouped(r["question"] for r in answers if r.get("abstained") and r.get("question")),
        "voted_down": [{"question": r.get("question"), "cited": r.get("cited", []), "time": r.get("time"),
                        "user": r.get("user")} for r in votes if r.get("liked") is False][-LISTED:][::-1],
        "most_asked": grouped(asked),
        "never_cited": sorted(set(doc_ids) - set(cited))[:1000],
        "folders": [{"folder": f, "documents": c["documents"], "answers": c["answers"], "citations": c["citations"]}
                    for f, c in sorted(folders.items())],
    }


def as_csv(report: dict) -> str:
    """The report as one CSV table: section, item, count, detail."""
    out = io.StringIO()
    rows = csv.writer(out)
    rows.writerow(["section", "item", "count", "detail"])
    for group in report["unanswered"]:
        rows.writerow(["unanswered", group["question"], group["count"], " | ".join(group["asked_as"])])
    for vote in report["voted_down"]:
        rows.writerow(["voted down", vote["question"] or "", 1, " ".join(vote["cited"])])
    for group in report["most_asked"]:
        rows.writerow(["most asked", group["question"], group["count"], " | ".join(group["asked_as"])])
    for doc in report["never_cited"]:
        rows.writerow(["never cited", doc, 0, ""])
    for folder in report["folders"]:
        rows.writerow(["folder", folder["folder"] or "(top)", folder["answers"],
                       f"{folder['documents']} documents, {folder['citations']} citations"])
    return out.getvalue()
