"""Understand a question before searching: what kind of answer it wants, and
what an elliptical follow-up ("When was that?") refers to.

Everything here is pure string work with worked examples; no model is used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from assistant.retrieval.lexicon import (
    DEICTIC_ENDINGS,
    FOLLOW_UP_OPENINGS,
    MONTH_ABBREVIATIONS,
    MONTHS,
    NUMBER_WORDS,
    ORDINAL_NOUNS,
    PERSON_NOUNS,
    PLACE_NOUNS,
    PLACE_PREPOSITIONS,
    PRONOUNS,
    QUESTION_WORDS,
    REASON_MARKERS,
    SPEECH_MARKERS,
    TIME_WORDS,
    alternation,
)
from index.documents.segment import sentences
from index.storage.lexical import STOPWORDS, content_words, tokenize

_PRONOUNS = re.compile(rf"\b{alternation(PRONOUNS)}\b", re.IGNORECASE)
_DEICTIC = re.compile(rf"\b{alternation(DEICTIC_ENDINGS)}\b\s*[?.!]*\s*$", re.IGNORECASE)
_FOLLOW_UP_START = re.compile(rf"^\s*{alternation(FOLLOW_UP_OPENINGS)}\b", re.IGNORECASE)

_MONTH = alternation(MONTHS + MONTH_ABBREVIATIONS) + r"\.?"
_WHEN = re.compile(
    rf"\b(?:{_MONTH}\s+\d{{1,2}}|\d{{1,2}}\s+{_MONTH}|{_MONTH}|1[0-9]{{3}}s?|20[0-9]{{2}}s?|\d{{1,2}}(?:st|nd|rd|th)\s+century"
    rf"|{'|'.join(TIME_WORDS)})\b",
    re.IGNORECASE,
)
_NUMBER_WORD = re.compile(rf"\b{alternation(NUMBER_WORDS)}\b", re.IGNORECASE)
_SPEECH = re.compile(r"\b" + alternation(SPEECH_MARKERS + ('"', "“")), re.IGNORECASE)
_REASON = re.compile(rf"\b{alternation(REASON_MARKERS)}", re.IGNORECASE)
_PLACED = re.compile(rf"\b{alternation(PLACE_PREPOSITIONS)}\s+(?:the\s+)?[A-Z]")
_CAPITALIZED = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+(?:[ -][A-Z][a-z]+)*")


@dataclass(frozen=True)
class Query:
    """A question ready for retrieval."""

    text: str  # what the user typed, trimmed
    search_text: str  # the question made self-contained with the conversation
    tokens: tuple[str, ...]  # stemmed content tokens of search_text
    answer_type: str  # when | number | who | where | why | speech | other
    broad: bool = False  # asks for several points ("What did Singh discuss?"), not one fact
    asking: str = ""  # the sentence that asks, when the question sets its scene first (asking_sentence)


def answer_type(question: str) -> str:
    """The kind of information the question asks for.

    >>> answer_type("When did they meet?"), answer_type("How many people died?")
    ('when', 'number')
    >>> answer_type("What did Singh tell Dong Jun?"), answer_type("Who won?")
    ('speech', 'who')
    """
    q = question.lower().strip()
    if re.search(r"\b(when|what (year|date|day|month|time|century|decade)|which (year|date|day|month|century))\b", q):
        return "when"
    if re.search(r"\bhow (many|much|long|old|far|often|large|big|tall|high|fast)\b|\bwhat (number|percentage|amount)\b"
                 rf"|\b(what|which) {alternation(ORDINAL_NOUNS)}\b", q):
        return "number"
    speech = r"\b(say|said|says|tell|told|stat(e|ed)|urge|urged|stress|emphasi[sz]e|express|call for|mention)\b"
    if re.search(speech, q) and re.search(r"\bwhat\b", q):
        return "speech"
    if re.search(rf"^\s*(who|whom|whose)\b|\bwho\b|\b(what|which) (\w+ )?{alternation(PERSON_NOUNS)}\b", q):
        return "who"
    if re.search(rf"^\s*where\b|\bwhere\b|\b(what|which) {alternation(PLACE_NOUNS)}\b", q):
        return "where"
    if re.search(r"^\s*why\b|\bwhat (is|was) the reason\b|\bfor what reason\b", q):
        return "why"
    return "other"


# What someone did, said or decided, or whom it was done to ("What did Singh
# tell Dong Jun?", "Whom did Singh meet?"): an action's object is rarely one fact.
_ASKS_ACTION = re.compile(r"^\s*(?:what|whom?)\s+(?:did|does|do|will|would|can|could|should|has|have|had)\b"
                          r"|^\s*what\s+[a-z]+ed\b", re.IGNORECASE)
# A plural or a list asked for ("Which ministers ...?", "What were the
# highlights ...?", "Name the ..."): the answer is each of them.
_ASKS_LIST = re.compile(r"\b(?:what|who|which)\s+(?:are|were)\b|^\s*(?:list|name|enumerate)\b|\b(?:all|each|every) of\b",
                        re.IGNORECASE)
_ASKED_NOUN = re.compile(r"\b(?:which|what)\s+(?P<first>[\w'-]+)(?:\s+(?P<second>[\w'-]+))?", re.IGNORECASE)
# Words ending in s that are not plurals (asked after "what"/"which").
_NOT_PLURAL = frozenset({"does", "was", "is", "has", "this", "thus", "his", "its", "yes", "always", "less", "unless",
                         "across", "plus", "status", "news", "series", "process", "business", "class", "address",
                         "success", "access", "analysis", "basis", "crisis", "campus", "bus", "gas", "virus", "focus",
                         "bonus", "census", "consensus", "thesis", "emphasis", "congress", "progress", "loss", "boss"})


def is_broad(question: str) -> bool:
    """Does the question ask for several points: what someone did or said
    (the object of an action), or a plural or a list, rather than one fact?
    Read from the question's form, not from its verbs.

    >>> is_broad("What did Singh tell Dong Jun?"), is_broad("What did the ministers agree on?")
    (True, True)
    >>> is_broad("Which ministers did Singh hold talks with?"), is_broad("What were the highlights of the meeting?")
    (True, True)
    >>> is_broad("When did Singh meet Dong Jun?"), is_broad("How many ministers did Singh meet?")
    (False, False)
    >>> is_broad("What is the capital of Laos?"), is_broad("Which minister did Singh meet first?")
    (False, False)
    >>> is_broad("What happened to the levees?"), is_broad("Whom did Singh meet?"), is_broad("Who led the team?")
    (True, True, False)
    >>> is_broad("What issues does the summit address?"), is_broad("What does the summit address?")
    (True, True)
    """
    wanted = answer_type(question)
    if wanted in {"when", "number"}:
        return False
    if _ASKS_LIST.search(question):
        return True
    for asked in _ASKED_NOUN.finditer(question):
        nouns = [w.lower() for w in (asked.group("first"), asked.group("second")) if w]
        if any(len(w) > 3 and w.endswith("s") and w not in _NOT_PLURAL for w in nouns):
            return True
    if _ASKS_ACTION.search(question):
        return wanted != "where"
    return wanted == "speech"


def matches_type(sentence: str, answer_type: str, question: str) -> bool:
    """Does ``sentence`` hold information of the answer type asked for that the
    question does not already hold?

    >>> matches_type("On November 20, 2024, they met.", "when", "When did they meet?")
    True
    >>> matches_type("He called for restraint.", "speech", "What did he say?")
    True
    >>> matches_type("Singh met Dong Jun.", "who", "Who did Singh meet?")
    True
    >>> matches_type("Singh met him.", "who", "Who did Singh meet?")
    False
    """
    if answer_type == "when":
        asked = _asked(question, "when")
        return any(m.lower() not in asked for m in _WHEN.findall(sentence))
    if answer_type == "number":
        asked = _asked(question, "number")
        return any(m not in asked for m in re.findall(r"\d+", sentence)) or bool(_NUMBER_WORD.search(sentence))
    if answer_type == "speech":
        return bool(_SPEECH.search(sentence))
    if answer_type == "why":
        return bool(_REASON.search(sentence))
    if answer_type == "where" and not _PLACED.search(sentence):
        return False
    if answer_type in {"who", "where"}:
        asked = _asked(question, "who")
        names = _CAPITALIZED.findall(sentence)
        return any(any(part.lower() not in asked for part in re.split(r"[ -]", name)) for name in names)
    return False


@lru_cache(maxsize=1024)
def _asked(question: str, answer_type: str) -> frozenset[str]:
    """What the question already holds of ``answer_type``: a question's candidate
    sentences all ask this, so it is found once."""
    if answer_type == "when":
        return frozenset(m.lower() for m in _WHEN.findall(question))
    if answer_type == "number":
        return frozenset(re.findall(r"\d+", question))
    return frozenset(w.lower() for w in re.findall(r"[A-Za-z]+", question))


def named_terms(question: str) -> frozenset[str]:
    """Stems of the words a question uses as names or figures: capitalized
    words after the first, and numbers. The documents must contain these.

    >>> sorted(named_terms("What did Singh say about Pakistan in 2019?"))
    ['2019', 'pakistan', 'singh']
    >>> sorted(named_terms("what did singh say about pakistan"))
    []
    """
    found = []
    for index, match in enumerate(re.finditer(r"[^\W_]+(?:['’][^\W_]+)?", question)):
        word = match.group()
        if word.isdigit() or (index > 0 and word[0].isupper()):
            found.extend(tokenize(word))
    return frozenset(found)


def written_names(question: str) -> frozenset[str] | None:
    """Stems of every capitalized word of a question: the terms that may be
    parts of names. ``None`` for a question typed in lower case, where any
    term may be.

    >>> sorted(written_names("When did Singh meet Dong Jun?"))
    ['dong', 'jun', 'singh']
    >>> written_names("when did singh meet dong jun?") is None
    True
    """
    words = re.findall(r"[^\W\d_]+", question)
    if not any(w[0].isupper() for w in words[1:]):
        return None
    return frozenset(t for w in words if w[0].isupper() for t in tokenize(w))


def _subject(question: str) -> str:
    """The first name-like phrase of a question: what a pronoun most likely means.

    >>> _subject("What did Rajnath Singh tell Dong Jun?")
    'Rajnath Singh'
    >>> _subject("what did singh tell dong jun?")
    ''
    """
    names = [m for m in re.findall(r"\b[A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*)*", question)]
    names = [n for n in names if n.split()[0].lower() not in QUESTION_WORDS | STOPWORDS]
    return names[0] if names else ""


def is_follow_up(question: str) -> bool:
    """Does the question lean on earlier turns?

    >>> is_follow_up("When was that?"), is_follow_up("And what did he discuss?")
    (True, True)
    >>> is_follow_up("What did Singh tell Dong Jun?")
    False
    """
    if _FOLLOW_UP_START.search(question) or _DEICTIC.search(question):
        return True
    if _PRONOUNS.search(question):
        return True
    return len([w for w in content_words(question) if w not in QUESTION_WORDS]) < 2


def resolve_follow_up(question: str, history: list[dict] | None) -> str:
    """Rewrite a follow-up so it stands alone, using the previous user turns.

    Pronouns take the subject of the last question that named one; a question
    with too little of its own to search for also carries that question.

    >>> h = [{"role": "user", "content": "What did Singh tell Dong Jun?"}, {"role": "assistant", "content": "..."}]
    >>> resolve_follow_up("And what did he discuss with the Malaysian minister?", h)
    'And what did Singh discuss with the Malaysian minister?'
    >>> resolve_follow_up("When was that?", h)
    'What did Singh tell Dong Jun? When was that?'
    >>> resolve_follow_up("Who is Dong Jun?", h)
    'Who is Dong Jun?'
    """
    question = question.strip()
    previous = [turn["content"].strip() for turn in (history or []) if turn.get("role") == "user" and turn.get("content")]
    if not previous or not is_follow_up(question):
        return question
    subject = next((s for s in (_subject(p) for p in reversed(previous)) if s), "")
    rewritten = question
    if subject:
        rewritten = re.sub(
            r"\b(he|she|they)\b",
            subject,
            rewritten,
            flags=re.IGNORECASE,
        )
        rewritten = re.sub(r"\b(his|her|their)\b", f"{subject}'s", rewritten, flags=re.IGNORECASE)
        rewritten = re.sub(r"\b(him|them)\b", subject, rewritten, flags=re.IGNORECASE)
    own = [w for w in content_words(rewritten) if w not in QUESTION_WORDS]
    if len(own) < 2 or (_DEICTIC.search(question) and rewritten == question):
        return f"{previous[-1]} {rewritten}"
    return rewritten


def asking_sentence(question: str) -> str:
    """The sentence that asks, when a question first sets its scene in
    sentences of its own (as news quizzes do); "" when the question is one
    sentence or asks more than once. A sentence that answers it must match
    what is asked, not only the scene, which whole articles repeat.

    >>> asking_sentence("China's birth rate fell in 2022. It has been the most populous nation since at least:")
    'It has been the most populous nation since at least:'
    >>> asking_sentence("The U.S. House met this week. Which Republican lost? Name him.")
    'Which Republican lost?'
    >>> asking_sentence("What did Singh tell Dong Jun?"), asking_sentence("Who met? When did they meet?")
    ('', '')
    """
    parts = sentences(question)
    if len(parts) < 2:
        return ""
    asked = [part for part in parts if part.endswith("?")]
    if len(asked) > 1:
        return ""
    return asked[0] if asked else parts[-1]


def prepare(question: str, history: list[dict] | None = None) -> Query:
    """Everything retrieval needs to know about a question."""
    text = " ".join(question.split())
    search_text = resolve_follow_up(text, history)
    return Query(
        text=text,
        search_text=search_text,
        tokens=tuple(tokenize(search_text)),
        answer_type=answer_type(text),
        broad=is_broad(text),
        # Of the question as typed: a follow-up rewritten with earlier turns asks in their words too.
        asking=asking_sentence(text) if search_text == text else "",
    )
