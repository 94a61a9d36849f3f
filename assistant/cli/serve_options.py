"""The options of ``askdoc serve`` that say who may ask and what is kept of
it: sign-in (a proxy's headers, OpenID Connect, widget sessions), the
permissions file and the audit trail; and what ``serve`` starts early."""

from __future__ import annotations

import os
from pathlib import Path

import click


def signin_options(command):
    """--trust-user-header, --trust-groups-header, --session-secret, --oidc-*, --permissions."""
    command = click.option("--permissions", "permissions_file", envvar="ASKDOC_PERMISSIONS", show_envvar=True, default=None,
        type=click.Path(path_type=Path, dir_okay=False),
        help="Which groups may read which folders and files (TOML). Default: DOCS/.permissions.toml when "
             "it exists; without one, everyone signed in reads everything.")(command)
    command = click.option("--oidc-groups-claim", envvar="ASKDOC_OIDC_GROUPS_CLAIM", show_envvar=True, default="groups",
        show_default=True, help="The ID token (or userinfo) claim that lists a person's groups.")(command)
    command = click.option("--oidc-client-id", envvar="ASKDOC_OIDC_CLIENT_ID", show_envvar=True, default=None,
        help="askdoc's client id at the provider.")(command)
    command = click.option("--oidc-issuer", envvar="ASKDOC_OIDC_ISSUER", show_envvar=True, default=None, metavar="URL",
        help="Sign people in with this OpenID Connect provider (authorization code with PKCE); the client "
             "secret, if the provider gave one, goes in ASKDOC_OIDC_CLIENT_SECRET. Its redirect URL: "
             "https://THIS-SERVER/signin/callback.")(command)
    command = click.option("--session-secret", envvar="ASKDOC_SESSION_SECRET", show_envvar=True, default=None,
        help="A secret shared with the intranet page's own server, which asks POST /api/session for a "
             "person's short-lived widget token (minutes long, bound to a user and groups).")(command)
    command = click.option("--trust-groups-header", envvar="ASKDOC_TRUST_GROUPS_HEADER", show_envvar=True, default=None,
        metavar="NAME", help="Their groups, comma-separated (e.g. X-Remote-Groups), from the same proxies.")(command)
    command = click.option("--trust-user-header", envvar="ASKDOC_TRUST_USER_HEADER", show_envvar=True, default=None, metavar="NAME",
        help="Who is asking, as the intranet's reverse proxy says (e.g. X-Remote-User), believed only from "
             "--forwarded-allow-ips; a request without it gets 401. Each person then reads only what the "
             "permissions file allows.")(command)
    return command


def audit_options(command):
    """--audit-log, --audit-max-mb, --audit-keep-days, --audit-no-questions, --no-audit."""
    command = click.option("--no-audit", is_flag=True, envvar="ASKDOC_NO_AUDIT", show_envvar=True, help="Keep no audit log.")(command)
    command = click.option("--audit-no-questions", is_flag=True, envvar="ASKDOC_AUDIT_NO_QUESTIONS", show_envvar=True,
        help="Record no question text in the audit log (who asked, when, what was cited is still recorded).")(command)
    command = click.option("--audit-keep-days", envvar="ASKDOC_AUDIT_KEEP_DAYS", show_envvar=True, default=None,
        type=click.FloatRange(min=0), help="Delete rotated audit files older than this many days.")(command)
    command = click.option("--audit-max-mb", envvar="ASKDOC_AUDIT_MAX_MB", show_envvar=True, default=10, show_default=True,
        type=click.IntRange(1, 10_000), help="Size at which the audit log is rotated (5 rotated files kept).")(command)
    command = click.option("--audit-log", envvar="ASKDOC_AUDIT_LOG", show_envvar=True, default=None,
        type=click.Path(path_type=Path, dir_okay=False),
        help="Where each question answered and each vote is recorded (JSON lines: time, user, groups, "
             "question, scope, cited documents, abstained, vote). Default: INDEX/audit.jsonl.")(command)
    return command


def audit_settings(index_dir: Path, path: Path | None, max_mb: int, keep_days: float | None, no_questions: bool,
                   off: bool):
    """The audit trail's settings (None: --no-audit)."""
    from assistant.people.audit import AuditSettings

    if off:
        return None
    return AuditSettings(path or index_dir / "audit.jsonl", max_mb * 2**20, retention_days=keep_days,
                         questions=not no_questions)


def oidc_settings(issuer: str | None, client_id: str | None, groups_claim: str):
    """The OpenID Connect settings of ``askdoc serve`` (None without an issuer)."""
    from assistant.people.oidc import OidcSettings

    if not issuer:
        if client_id:
            raise click.UsageError("--oidc-client-id needs --oidc-issuer")
        return None
    if not client_id:
        raise click.UsageError("--oidc-issuer needs --oidc-client-id (askdoc's client id at the provider)")
    if not issuer.startswith(("https://", "http://")):
        raise click.UsageError(f"--oidc-issuer must be the provider's URL, not {issuer!r}")
    return OidcSettings(issuer.rstrip("/"), client_id, os.environ.get("ASKDOC_OIDC_CLIENT_SECRET") or None,
                        groups_claim or "groups")
