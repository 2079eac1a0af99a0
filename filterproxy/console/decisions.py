"""Deciding unblock requests: approve through the audited allow path, decline with a note, expire.

An approval calls :func:`filterproxy.lists.editing.edit` exactly as ``filterproxy allow`` does, so
an illegal-feed entry is refused (and the refusal audited) whoever asks. A temporary approval is
undone by :func:`expire_due` (the console runs it every minute) only if it added the entry itself.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from filterproxy.config.model import Config
from filterproxy.console.audit import console_audit
from filterproxy.console.unblock import RequestStatus, RequestStore, Scope, UnblockRequest
from filterproxy.errors import IllegalOverrideError, UnblockRequestError
from filterproxy.lists import editing
from filterproxy.lists.loader import local_files


def approve(config: Config, store: RequestStore, request_id: int, by: str, note: str, scope: Scope,
            *, hours: float | None = None, group: str | None = None, max_hours: int = 24 * 30) -> UnblockRequest:
    request = _pending(store, request_id)
    expires = None
    if scope is Scope.HOURS:
        if hours is None or not 0 < hours <= max_hours:
            raise UnblockRequestError(f"give the hours, between 1 and {max_hours}")
        expires = datetime.now(UTC) + timedelta(hours=hours)
    if scope is Scope.GROUP:
        group = group or request.group
        if group not in config.policy.groups:
            raise UnblockRequestError(f"unknown group {group!r}; groups: {', '.join(sorted(config.policy.groups))}")
    reason = f"unblock request {request.id} ({request.reference}): {note.strip() or request.reason}"
    try:
        changed = editing.edit(config, "allow", [request.site], reason, None, user=by,
                               group=group if scope is Scope.GROUP else None)
    except IllegalOverrideError:
        store.decide(request.id, RequestStatus.DECLINED, by, "refused: listed by an illegal-content feed")
        console_audit(local_files(config).audit_log, by, "request.refused", request=request.id, site=request.site)
        raise
    store.decide(request.id, RequestStatus.APPROVED, by, note.strip(), scope=scope,
                 scope_group=group if scope is Scope.GROUP else None, expires_at=expires, added=bool(changed))
    console_audit(local_files(config).audit_log, by, "request.approved", request=request.id, site=request.site,
                  scope=scope.value, group=group if scope is Scope.GROUP else None,
                  expires_at=expires.isoformat(timespec="seconds") if expires else None, reason=note.strip())
    return store.get(request.id)


def decline(config: Config, store: RequestStore, request_id: int, by: str, note: str) -> UnblockRequest:
    if not note.strip():
        raise UnblockRequestError("declining needs a note for the requester")
    request = _pending(store, request_id)
    store.decide(request.id, RequestStatus.DECLINED, by, note.strip())
    console_audit(local_files(config).audit_log, by, "request.declined", request=request.id, site=request.site,
                  reason=note.strip())
    return store.get(request.id)


def expire_due(config: Config, store: RequestStore, now: datetime | None = None) -> list[UnblockRequest]:
    """Undo temporary approvals whose time is up; returns the requests expired."""
    expired = []
    for request in store.due_to_expire(now or datetime.now(UTC)):
        if request.added:
            editing.edit(config, "unallow", [request.site], f"unblock request {request.id} expired", None,
                         user="console:expiry", group=request.scope_group)
        store.mark_expired(request.id)
        expired.append(request)
    return expired


def _pending(store: RequestStore, request_id: int) -> UnblockRequest:
    request = store.get(request_id)
    if request.status is not RequestStatus.PENDING:
        raise UnblockRequestError(f"unblock request {request_id} is {request.status.value} already")
    return request
