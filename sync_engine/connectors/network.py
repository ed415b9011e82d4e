"""Say in a few words why a request never got an answer (requests and urllib3 nest the real
cause several exceptions deep)."""

from __future__ import annotations

import socket
import ssl


def network_reason(error: BaseException) -> str:
    seen: set[int] = set()
    stack: list[BaseException] = [error]
    while stack:
        current = stack.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return f"certificate verify failed: {current.verify_message}"
        if isinstance(current, ssl.SSLError):
            return f"TLS error: {current.reason or current}"
        if isinstance(current, ConnectionRefusedError):
            return "connection refused"
        if isinstance(current, ConnectionResetError):
            return "connection reset by the server"
        if isinstance(current, socket.gaierror):
            return "host name not found"
        if isinstance(current, TimeoutError):
            return "timed out"
        for arg in getattr(current, "args", ()):
            if isinstance(arg, BaseException):
                stack.append(arg)
        for attr in ("reason", "__cause__", "__context__"):
            nested = getattr(current, attr, None)
            if isinstance(nested, BaseException):
                stack.append(nested)
    name = type(error).__name__
    if "Timeout" in name:
        return "timed out"
    if "RemoteDisconnected" in repr(error) or "ProtocolError" in name:
        return "the server closed the connection without answering"
    return str(error).strip() or name
