"""Retrieval: a question understood (``query``: its answer type, a
follow-up rewritten with the conversation; ``terms``: its words mapped onto
the corpus's), searched within a ``scope``, and its candidate sentences
scored (``retriever``). ``lexicon`` holds every English word list they use."""

from .query import Query, prepare
from .retriever import Hit, Retriever, SentenceHit
from .scope import Scope

__all__ = ["Hit", "Query", "Retriever", "Scope", "SentenceHit", "prepare"]
