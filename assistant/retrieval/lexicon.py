"""Every English word list the engine uses, in one place, each with why it
exists. They are general English (question words, month names, verbs of
speech), never words of one question or one corpus. The indexing side's own
lists (stopwords, irregular verbs) live in ``index.storage.lexical``, which must not
import the engine.
"""

from __future__ import annotations

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

# Pronouns a follow-up uses for the subject of an earlier question.
PRONOUNS = ("he", "she", "him", "her", "his", "hers", "they", "them", "their", "it", "its")

# Openings and endings that mark a question as leaning on the conversation.
FOLLOW_UP_OPENINGS = ("and", "also", "what about", "how about", "and what", "but", "so")
DEICTIC_ENDINGS = ("that", "this", "those", "these", "there", "then", "it")

# Dates: what a "when" question wants to find in a sentence.
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")
MONTH_ABBREVIATIONS = ("jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec")
TIME_WORDS = ("century", "decade", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
              "yesterday", "today", "ago", "ad", "bc", "bce")

# Quantities in words: what a "how many" question may be answered with.
NUMBER_WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
                "twenty", "thirty", "forty", "fifty", "hundred", "thousand", "million", "billion", "dozen",
                "several", "half", "percent")

# Verbs (and marks) of reported speech: what "what did X tell Y" wants.
SPEECH_MARKERS = ("said", "says", "say", "stated", "states", "told", "tells", "stressed", "emphasi[sz]ed", "urged",
                  "called for", "noted", "added", "asserted", "argued", "insisted", "warned", "expressed", "declared",
                  "announced", "remarked", "explained", "highlight(?:ed|ing)", "underlined", "reiterated",
                  "proposed", "suggested", "asked", "according to")

# Connectives that give a reason: what a "why" question wants.
# ("to " is the infinitive of purpose: "met to discuss ...")
REASON_MARKERS = ("because", "due to", "since", "as a result", "so that", "in order to", "owing to", "caused",
                  "led to", "reason", "therefore", "thus", "aimed", "to ")

# Nouns after "what/which" that ask for a person or organization ("which minister").
PERSON_NOUNS = ("person", "people", "minister", "ministers", "leader", "leaders", "official", "officials",
                "president", "king", "queen", "author", "player", "players", "team", "company", "organi[sz]ation")

# Nouns after "what/which" that ask for a place ("which country").
PLACE_NOUNS = ("country", "countries", "city", "cities", "place", "places", "state", "states", "region", "regions",
               "nation", "nations", "town", "continent")

# Prepositions that put a capitalized name in a place ("in Vientiane").
PLACE_PREPOSITIONS = ("in", "at", "from", "near", "to", "into", "across", "outside", "inside")

# Nouns after "what/which" that ask for a count or a rank ("which edition").
ORDINAL_NOUNS = ("edition", "session", "round", "rank", "anniversary", "iteration", "version", "number")

# Small words an acronym's long form may hold without a letter of their own
# ("Department of Defense" is DoD; "Organisation de ..." in French names).
ACRONYM_FILLERS = ("of", "and", "the", "for", "de", "du", "la")


def alternation(words) -> str:
    """A regex group matching any of ``words`` (themselves regex fragments).

    >>> alternation(("a", "b c"))
    '(?:a|b c)'
    """
    return "(?:" + "|".join(words) + ")"


# Sentence openings that refer back to something named before ("He said",
# "It opened", "This basin"): such a sentence cannot be read alone.
REFERRING_OPENINGS = ("he", "she", "it", "they", "his", "her", "its", "their", "this", "these", "those", "such")

# Determiners that, before a common noun ("The network", "That decision"),
# point back to a referent named earlier.
DEFINITE_DETERMINERS = ("the", "this", "that", "these", "those")

