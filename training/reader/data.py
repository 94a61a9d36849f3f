"""The public question sets the reader is trained on, read from paths given
on the command line (none is in the repository, and nothing here downloads):

- SQuAD 1.1 train (CC BY-SA 4.0): the explorer pages of
  ``rajpurkar/SQuAD-explorer`` at commit 0b3c8e8
  (``git archive 0b3c8e824b9fd05ad69e9b6b590966e4aade2baf explore/1.1/train``),
  one HTML page per article: each paragraph, then its questions and answers.
- SelQA answer-sentence selection (Apache-2.0): ``emorynlp/selqa``,
  ``ass/selqa-ass-dev.json`` and ``ass/selqa-ass-test.json``.
- SQuAD 2.0 dev, the *fit* half only (``tests/support/data.py:
  article_part``): its unanswerable questions are the near misses.

Each reader gives ``Passage``s: a paragraph and its questions, every answer
as offsets into the paragraph (or, for SelQA, the answering sentences).
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

SQUAD_COMMIT = "0b3c8e824b9fd05ad69e9b6b590966e4aade2baf"
SQUAD_QUESTIONS, SQUAD_PARAGRAPHS = 87_599, 18_896  # the published counts of SQuAD 1.1 train


@dataclass(frozen=True)
class Question:
    """A question about a passage; ``answers`` are ``(start, end)`` offsets
    into the passage's text (none: the passage does not answer it)."""

    text: str
    answers: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Passage:
    title: str
    text: str
    questions: tuple[Question, ...]
    source: str  # which set: squad, selqa, squad2


_PARAGRAPH = re.compile(r'<div class="para-wrap">.*?<pre>(.*?)</pre>(.*?)(?=<div class="para-wrap">|</div></div></div></div></div>)',
                        re.DOTALL)
_QA = re.compile(r'<strong class="question">(.*?)</strong>(.*?)</ol>', re.DOTALL)
_ANSWER = re.compile(r'<span class="answer">(.*?)</span>', re.DOTALL)


def parse_explorer_page(page: str, title: str) -> list[Passage]:
    """The paragraphs of one SQuAD explorer page with their questions. The
    page gives each answer's text only: it is placed at its first
    occurrence in the paragraph (an answer the paragraph does not hold, as
    written, is dropped with its question).

    >>> page = ('<div class="para-wrap"><pre>Tom met Ann in 1990. They wed.</pre><div class="qa-wrap">'
    ...         '<strong class="question">When did Tom meet Ann?</strong><ol><span class="answer">1990</span></ol>'
    ...         '</div></div></div></div></div>')
    >>> parse_explorer_page(page, "Tom")[0].questions
    (Question(text='When did Tom meet Ann?', answers=((15, 19),)),)
    """
    passages = []
    for paragraph in _PARAGRAPH.finditer(page):
        text = html.unescape(paragraph.group(1))
        questions = []
        for qa in _QA.finditer(paragraph.group(2)):
            spans = []
            for answer in _ANSWER.finditer(qa.group(2)):
                said = html.unescape(answer.group(1)).strip()
                at = text.find(said) if said else -1
                if at >= 0 and (at, at + len(said)) not in spans:
                    spans.append((at, at + len(said)))
            if spans:
                questions.append(Question(html.unescape(qa.group(1)).strip(), tuple(spans)))
        passages.append(Passage(title, text, tuple(questions), "squad"))
    return passages


def squad_train(folder: Path) -> list[Passage]:
    """SQuAD 1.1 train from its explorer pages (``explore/1.1/train/*.html``)."""
    pages = sorted(Path(folder).glob("*.html"))
    if not pages:
        raise SystemExit(f"no SQuAD explorer pages in {folder}: see training/reader/README.md for how to fetch them")
    passages: list[Passage] = []
    for page in pages:
        passages += parse_explorer_page(page.read_text(encoding="utf-8"), page.stem.replace("_", " "))
    return passages


def selqa(paths: list[Path]) -> list[Passage]:
    """SelQA's answer-sentence selection sets: each question's candidate
    sentences joined as one passage, its answers the labelled sentences."""
    passages = []
    for path in paths:
        for row in json.loads(Path(path).read_text(encoding="utf-8")):
            sentences, spans, at = [], [], 0
            for sentence in row["candidates"]:
                sentences.append(sentence)
                spans.append((at, at + len(sentence)))
                at += len(sentence) + 1
            answers = tuple(spans[i] for i in row["answers"] if 0 <= i < len(spans))
            passages.append(Passage(row.get("article", ""), " ".join(sentences),
                                    (Question(row["question"], answers),), "selqa"))
    return passages


def squad2_fit(path: Path, part_of) -> list[Passage]:
    """SQuAD 2.0 dev's paragraphs whose article ``part_of(title)`` puts in
    the fit half; unanswerable questions keep no answers."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))["data"]
    passages = []
    for article in data:
        if part_of(article["title"]) != "fit":
            continue
        for paragraph in article["paragraphs"]:
            text = paragraph["context"]
            questions = []
            for qa in paragraph["qas"]:
                spans = tuple(dict.fromkeys((a["answer_start"], a["answer_start"] + len(a["text"]))
                                            for a in qa["answers"]))
                questions.append(Question(qa["question"], () if qa.get("is_impossible") else spans))
            passages.append(Passage(article["title"], text, tuple(questions), "squad2"))
    return passages


def counts(passages: list[Passage]) -> tuple[int, int]:
    """(questions, paragraphs)."""
    return sum(len(p.questions) for p in passages), len(passages)


def iter_questions(passages: list[Passage]) -> Iterator[tuple[Passage, Question]]:
    for passage in passages:
        for question in passage.questions:
            yield passage, question
