"""The running server: one app (``server``: ``create_app``, ``serve``,
``ServerSettings``) with the assistant on its model thread (``live``), the
documents it may change (``library``), the chat page built while the API
already answers (``later``), and its static parts (``assets``).

Nothing is imported here: ``askdoc serve`` imports ``server`` when it
starts, and nothing else loads FastAPI.
"""
