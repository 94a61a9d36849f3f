"""``python -m assistant``: the same as the ``askdoc`` command."""

from .cli import main

main()
