"""The Python API every front end uses: load once, then ``ask``::

    assistant = Assistant.load(".askdoc/index")
    answer = assistant.ask("What did Singh tell Dong Jun?")
    answer.text, answer.citations[0].text, answer.abstained
    follow_up = assistant.ask("When was that?", history=[
        {"role": "user", "content": "What did Singh tell Dong Jun?"},
        {"role": "assistant", "content": answer.text},
    ])
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence, Union

from assistant.answering.answer import Answer
from assistant.answering.compose import compose
from assistant.answering.judge import judge
from assistant.answering.items import items, set_aside
from assistant.answering.reader import Reader, load_reader
from assistant.params import Params
from assistant.retrieval.query import Query, answer_type, prepare
from assistant.retrieval.retriever import Retriever
from assistant.retrieval.scope import Scope
from index.embedding.base import Embedder
from index.embedding.models import load_embedder
from index.errors import QuestionError
from index.storage import builds

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 2000
ScopeLike = Union[Scope, str, Sequence[str], None]
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Turn:
    """One exchange of a conversation: a question and the answer it got."""

    question: str
    answer: Answer


def history_of(turns: Iterable[Turn]) -> list[dict]:
    """Earlier turns as the ``history`` that ``Assistant.ask`` takes.

    >>> history_of([Turn("Who?", Answer("Who?", "Singh. [1]", False))])
    [{'role': 'user', 'content': 'Who?'}, {'role': 'assistant', 'content': 'Singh. [1]'}]
    """
    return [message for turn in turns for message in (
        {"role": "user", "content": turn.question}, {"role": "assistant", "content": turn.answer.text})]


def clean_text(text: str) -> str:
    """Whitespace folded, and lone surrogates (which no encoder accepts) replaced.

    >>> clean_text("  a" + chr(0xD800) + " b \\n c ") == "a\\ufffd b c"
    True
    """
    return " ".join(_SURROGATE.sub("\ufffd", text).split())


class Assistant:
    """The answering engine over one index. ``params`` are the fitted
    settings (``Params.load()``, read here once, when not given);
    ``settings`` may be replaced afterwards (a generator's grounding).
    The reader ``params`` names is loaded here unless ``reader`` is given (an
    assistant over a rebuilt index shares its predecessor's)."""

    def __init__(self, index: builds.Index, embedder: Embedder, params: Params | None = None,
                 reader: Reader | None = None) -> None:
        if index.manifest.model_id != embedder.model_id:
            builds.check_model(index.manifest, embedder.model_id, index.path or Path("."))
        params = params or Params.load()
        self.index = index
        self.embedder = embedder
        self.params = params
        self.retriever = Retriever(index, embedder, params.weights)
        self.reading_weights = params.ranking_weights()
        self.settings = params.answer
        self.reader = reader if reader is not None or params.reader is None else load_reader(params.reader.model)

    @classmethod
    def load(cls, index_dir: str | Path, model: str | None = None, embedder: Embedder | None = None,
             params: Params | None = None, reader: Reader | None = None) -> "Assistant":
        """Open the index in ``index_dir`` with the model it must match."""
        embedder = embedder or load_embedder(model)
        return cls(builds.load(Path(index_dir), embedder.model_id), embedder, params, reader)

    def ask(self, question: str, history: list[dict] | None = None, scope: ScopeLike = None) -> Answer:
        """Answer ``question``; ``history`` is earlier turns as
        ``[{"role": "user"|"assistant", "content": str}, ...]``; ``scope``
        limits the search to a folder (``"hr/"``) or a list of document ids."""
        answer = self.ask_many([(question, history, scope)])[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    def ask_many(self, questions: list[tuple]) -> list[Answer | QuestionError]:
        """Answer several ``(question, history)`` or ``(question, history,
        scope)`` with one forward pass of the model.

        Embedding dominates the cost of a question and batches well, so a
        server answering many people at once calls this. A bad question
        yields its ``QuestionError`` in its place; the others are answered.
        """
        results: list[Answer | QuestionError] = []
        queries = []
        for question, history, *rest in questions:
            try:
                scope = rest[0] if rest else None
                scope = scope if isinstance(scope, Scope) or scope is None else Scope.parse(scope)
                if scope is not None:
                    self.retriever.scopes.restriction(scope)  # a scope naming nothing is the asker's error
                queries.append((len(results), self._prepare(question, history), scope))
                results.append(None)  # type: ignore[arg-type]
            except QuestionError as exc:
                results.append(exc)
        if queries:
            # A question that sets its scene first also has its asking sentence embedded, in the same pass.
            asking = [q.asking for _, q, _ in queries if q.asking]
            vectors = self.embedder.encode([q.search_text for _, q, _ in queries] + asking)
            asking_vectors = iter(vectors[len(queries):])
            for (slot, query, scope), vector in zip(queries, vectors):
                results[slot] = self._answer(query, vector, scope, next(asking_vectors) if query.asking else None)
        return results

    def _prepare(self, question: str, history: list[dict] | None) -> Query:
        question = clean_text(question or "")
        if not question:
            raise QuestionError("the question is empty")
        if len(question) > MAX_QUESTION_CHARS:
            raise QuestionError(f"the question is longer than {MAX_QUESTION_CHARS} characters")
        history = [{"role": t.get("role"), "content": clean_text(str(t.get("content") or ""))} for t in history or []]
        return prepare(question, history)

    def _answer(self, query: Query, vector, scope: Scope | None = None, asking_vector=None) -> Answer:
        reading = self.params.reader
        # A broad question's answer is several points, not the one sentence the reader was trained to find:
        # read against it, the own set's broad answers held fewer of their points (88% against 83%).
        # A question that sets its scene first is read as the sentence that asks (the scene would fill the reader's
        # question tokens, and the lede that restates it would read as the answer).
        asked = query.asking or query.search_text
        listing = set_aside(asked)
        # The features the reader made redundant weigh nothing where it judges one answer; broad questions and
        # lists keep every rule ("What did Singh tell Dong Jun?" quoted the sentence restating it first without them).
        judged = self.reader is not None and reading is not None and not query.broad and not listing.excluded
        _, ranked, unknown = self.retriever.search(query, vector, scope, asking_vector,
                                                   self.reading_weights if judged else None)
        found: list = []
        if self.reader is not None and reading is not None and ranked:
            # People asked for as a list, or all but someone: each candidate the reader says names someone new.
            if (query.broad or listing.excluded) and answer_type(listing.question) == "who":
                found = items(self.reader, listing, asked, self.index, ranked, reading)
                if len(found) < 2 and not listing.excluded:
                    found = []  # one person is one fact, not a list: answered as any question
        judgment = judge(self.reader, asked, self.index, ranked, reading) \
            if self.reader is not None and reading is not None and ranked and not query.broad and not found else None
        answer = compose(query, self.index, ranked, unknown, self.settings, judgment, found)
        log.debug("asked %r (searched %r): abstained=%s", query.text, query.search_text, answer.abstained)
        return answer
