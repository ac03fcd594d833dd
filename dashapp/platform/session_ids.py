"""Session ids the browser holds: 192 random bits plus an HMAC tag, so a forged or altered id is recognised
without a store lookup (RFC 2104 HMAC-SHA256, truncated to 96 bits as RFC 2104 §5 allows)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading

from dashapp.platform.config import resolve_secret_key, settings

_key_lock = threading.Lock()
_key: bytes | None = None


def _secret() -> bytes:
    global _key
    with _key_lock:
        if _key is None:
            _key = resolve_secret_key(settings).encode()
        return _key


def _tag(token: str) -> str:
    mac = hmac.new(_secret(), token.encode(), hashlib.sha256).digest()[:12]
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def new_session_id() -> str:
    """A fresh signed id: `token.tag`."""
    token = secrets.token_urlsafe(24)
    return f"{token}.{_tag(token)}"


def valid_session_id(sid) -> bool:
    """True for an id this deployment signed (constant-time tag comparison)."""
    if not isinstance(sid, str) or len(sid) > 80 or sid.count(".") != 1:
        return False
    token, tag = sid.split(".")
    return len(token) >= 32 and hmac.compare_digest(tag, _tag(token))
