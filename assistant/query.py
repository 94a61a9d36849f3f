"""Understand a question before searching: what kind of answer it wants, and
what an elliptical follow-up ("When was that?") refers to.

Everything here is pure string work with worked examples; no model is used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.lexical import STOPWORDS, content_words, tokenize

# Words that shape a question but say nothing about its topic: a sentence
# does not need them to answer, and their absence from the documents is no
# sign that the documents are silent.
QUESTION_WORDS = frozenset(
    """what which who whom whose when where why how many much long old far often
    did does do tell told say said says mention mentioned describe explain name named
    call called happen happened give gave given get got kind type sort please list
    according regarding concerning respect based discuss discussed speak spoke
    show shows mean means indicate indicates suggest suggests reveal reveals signify""".split()
)

_PRONOUNS = re.compile(r"\b(he|she|him|her|his|hers|they|them|their|it|its)\b", re.IGNORECASE)
_DEICTIC = re.compile(r"\b(that|this|those|these|there|then|it)\b\s*[?.!]*\s*$", re.IGNORECASE)
_FOLLOW_UP_START = re.compile(r"^\s*(and|also|what about|how about|and what|but|so)\b", re.IGNORECASE)

MONTHS = "january february march april may june july august september october november december"
_MONTH = r"(?:%s|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)\.?" % MONTHS.replace(" ", "|")
_WHEN = re.compile(
    rf"\b(?:{_MONTH}\s+\d{{1,2}}|\d{{1,2}}\s+{_MONTH}|{_MONTH}|1[0-9]{{3}}s?|20[0-9]{{2}}s?|\d{{1,2}}(?:st|nd|rd|th)\s+century"
    r"|century|decade|monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today|ago|ad|bc|bce)\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
    r"hundred|thousand|million|billion|dozen|several|half|percent)\b",
    re.IGNORECASE,
)
_SPEECH = re.compile(
    r"\b(?:said|says|say|stated|states|told|tells|stressed|emphasi[sz]ed|urged|called for|noted|added|"
    r"asserted|argued|insisted|warned|expressed|declared|announced|remarked|explained|highlight(?:ed|ing)|"
    r"underlined|reiterated|proposed|suggested|asked|according to|\"|“)",
    re.IGNORECASE,
)
_REASON = re.compile(r"\b(?:because|due to|since|as a result|so that|in order to|owing to|caused|led to|reason|therefore|thus|aimed|to )", re.IGNORECASE)
_CAPITALIZED = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+(?:[ -][A-Z][a-z]+)*")


@dataclass(frozen=True)
class Query:
    """A question ready for retrieval."""

    text: str  # what the user typed, trimmed
    search_text: str  # the question made self-contained with the conversation
    tokens: tuple[str, ...]  # stemmed content tokens of search_text
    answer_type: str  # when | number | who | where | why | speech | other


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
                 r"|\b(what|which) (edition|session|round|rank|anniversary|iteration|version|number)\b", q):
        return "number"
    if re.search(r"\b(say|said|says|tell|told|stat(e|ed)|urge|urged|stress|emphasi[sz]e|express|call for|mention)\b", q) and re.search(r"\bwhat\b", q):
        return "speech"
    if re.search(r"^\s*(who|whom|whose)\b|\bwho\b|\b(what|which) (\w+ )?(person|people|minister|ministers|leader|leaders|"
                 r"official|officials|president|king|queen|author|player|players|team|company|organi[sz]ation)\b", q):
        return "who"
    if re.search(r"^\s*where\b|\bwhere\b|\b(what|which) (country|countries|city|cities|place|places|state|states|"
                 r"region|regions|nation|nations|town|continent)\b", q):
        return "where"
    if re.search(r"^\s*why\b|\bwhat (is|was) the reason\b|\bfor what reason\b", q):
        return "why"
    return "other"


def matches_type(sentence: str, kind: str, question: str) -> bool:
    """Does ``sentence`` hold information of the wanted kind that the
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
    if kind == "when":
        asked = {m.lower() for m in _WHEN.findall(question)}
        return any(m.lower() not in asked for m in _WHEN.findall(sentence))
    if kind == "number":
        asked = set(re.findall(r"\d+", question))
        return any(m not in asked for m in re.findall(r"\d+", sentence)) or bool(
            re.search(_NUMBER.pattern.replace(r"\d|", ""), sentence, re.IGNORECASE)
        )
    if kind == "speech":
        return bool(_SPEECH.search(sentence))
    if kind == "why":
        return bool(_REASON.search(sentence))
    if kind == "where" and not re.search(r"\b(?:in|at|from|near|to|into|across|outside|inside)\s+(?:the\s+)?[A-Z]", sentence):
        return False
    if kind in {"who", "where"}:
        asked = {w.lower() for w in re.findall(r"[A-Za-z]+", question)}
        names = _CAPITALIZED.findall(sentence)
        return any(any(part.lower() not in asked for part in re.split(r"[ -]", name)) for name in names)
    return False


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


def contextualize(question: str, history: list[dict] | None) -> str:
    """Rewrite a follow-up so it stands alone, using the previous user turns.

    Pronouns take the subject of the last question that named one; a question
    with too little of its own to search for also carries that question.

    >>> h = [{"role": "user", "content": "What did Singh tell Dong Jun?"}, {"role": "assistant", "content": "..."}]
    >>> contextualize("And what did he discuss with the Malaysian minister?", h)
    'And what did Singh discuss with the Malaysian minister?'
    >>> contextualize("When was that?", h)
    'What did Singh tell Dong Jun? When was that?'
    >>> contextualize("Who is Dong Jun?", h)
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


def prepare(question: str, history: list[dict] | None = None) -> Query:
    """Everything retrieval needs to know about a question."""
    text = " ".join(question.split())
    search_text = contextualize(text, history)
    return Query(
        text=text,
        search_text=search_text,
        tokens=tuple(tokenize(search_text)),
        answer_type=answer_type(text),
    )
