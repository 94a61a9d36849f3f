"""What a server answers on each route, all behind the guard: the JSON API
(``api``), ``/v1`` for chat front ends (``chat_api``), the Gradio chat page
(``chat_page``) and its Documents tab (``panel``), the views a citation
opens (``views``), answers and documents as HTML (``render``), what the
audit trail tells owners (``insights``), streaming (``stream``), and what
they all need of the assistant (``base.ServedAssistant``).

Nothing is imported here, so that importing one route loads neither
FastAPI's nor the chat page's dependencies for the others.
"""
