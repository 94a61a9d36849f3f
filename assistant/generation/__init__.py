"""Generated answers: an OpenAI-compatible LLM writes from the excerpts
(``generate``), and only sentences that pass ``checks`` against the
excerpts they cite reach a reader."""

from .checks import Verdict, check
from .generate import GROUNDING_EXCERPTS, Generator, LLMSettings

__all__ = ["GROUNDING_EXCERPTS", "Generator", "LLMSettings", "Verdict", "check"]
