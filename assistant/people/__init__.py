"""Who is asking and what they may read: the intranet proxy's headers
(``identity``), signed session tokens (``sessions``), the chat page's token
form (``signin``), OpenID Connect (``oidc``), folder ``permissions``, and the
``audit`` trail of who asked what."""

from .audit import AuditLog, AuditSettings
from .identity import Asker, IdentityHeaders
from .oidc import OidcSettings, OidcSignIn
from .permissions import PermissionsFile, Readers

__all__ = ["Asker", "AuditLog", "AuditSettings", "IdentityHeaders", "OidcSettings", "OidcSignIn", "PermissionsFile",
           "Readers"]
