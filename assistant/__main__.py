"""``python -m assistant``: the same as the ``askdoc`` command."""

from assistant.cli.commands import main

main()
