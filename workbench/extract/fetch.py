"""Fetch one web page safely: http(s) only, public addresses only, bounded in size, time and redirects.

    result = fetch("https://example.com/faq")                     # strict default policy
    result = fetch(url, FetchPolicy(allowed_addresses=("127.0.0.1:8123",)))   # tests: one local server

Every hop (the first request and each redirect) resolves the host, refuses the request when any of
its addresses is internal (loopback, private, link-local, multicast, reserved, unspecified, cloud
metadata), and then connects to an address it checked, so a DNS answer that changes between the
check and the connection (DNS rebinding) cannot redirect us inside. Failures raise ReadError with one
located bilingual Problem. The standard library's http.client is used because it lets us connect to
the checked IP while sending the original Host header and TLS server name (httpx is not installed).
What may be contacted is decided in policy.py.
"""
from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit

from ..problems import Problem, ReadError
from .messages import zh
from .policy import MB, METADATA_HOSTS, STRICT, FetchPolicy, refusal

READ_BYTES = 64 * 1024
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
# content type -> document kind; anything else is refused before its body is read
CONTENT_KINDS = {
    "text/html": "html", "application/xhtml+xml": "html", "text/plain": "txt", "text/markdown": "md",
    "text/x-markdown": "md", "application/pdf": "pdf", "application/x-pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
}
ACCEPT = ("text/html,application/xhtml+xml,text/plain;q=0.9,text/markdown;q=0.9,application/pdf;q=0.8,"
          "application/vnd.openxmlformats-officedocument.wordprocessingml.document;q=0.8")


@dataclass(frozen=True)
class FetchResult:
    url: str               # as asked
    final_url: str         # after redirects
    status: int
    content_type: str      # the media type without parameters, e.g. "text/html"
    charset: str | None    # from the Content-Type header, if any
    kind: str              # "html", "txt", "md", "pdf" or "docx"
    data: bytes
    redirects: tuple[str, ...] = ()
    seconds: float = 0.0


@dataclass(frozen=True)
class _Target:
    url: str
    scheme: str
    host: str          # IDNA-encoded, lower case, no brackets
    port: int
    path: str          # path + query, percent-encoded
    host_header: str


# --- fetching ------------------------------------------------------------------------------------
def fetch(url: str, policy: FetchPolicy = STRICT) -> FetchResult:
    """GET `url` under `policy`, following redirects by hand; raises ReadError with the reason it refused."""
    started = time.monotonic()
    deadline = started + policy.timeout_s
    current, redirects = str(url).strip(), []
    for _ in range(policy.max_redirects + 1):
        target = _parse(current, url)
        addresses = _checked_addresses(target, policy, deadline, url)
        connection, sock, response = _request(target, addresses, policy, deadline, url)
        try:
            location = response.getheader("Location")
            if response.status in REDIRECT_STATUSES and location:
                redirects.append(current)
                current = urljoin(current, location.strip())
                continue
            if response.status >= 300:
                raise _error("extract_url_status", url, status=response.status, reason=response.reason,
                             url=target.url)
            media_type, charset = _content_type(response.getheader("Content-Type", ""))
            kind = CONTENT_KINDS.get(media_type) if media_type else None
            if media_type and kind is None:
                raise _error("extract_url_content_type", url, content_type=media_type)
            data = _read_body(sock, response, policy, deadline, url)
        finally:
            response.close()
            connection.close()
        return FetchResult(str(url), current, response.status, media_type or "", charset, kind or _sniff(data),
                           data, tuple(redirects), time.monotonic() - started)
    raise _error("extract_url_redirects", url, limit=policy.max_redirects, url=current)


def _error(code: str, asked: str, **params) -> ReadError:
    if "url" in params:
        params["url"] = _without_password(params["url"])
    return ReadError([Problem(code, file=_without_password(asked), params=params)])


def _without_password(url: str) -> str:
    """The URL as shown in messages: user name and password are never echoed."""
    head, at, tail = str(url).partition("@")
    if at and "://" in head and "/" not in head.split("://", 1)[1]:
        return head.split("://", 1)[0] + "://***@" + tail
    return str(url)


def _parse(url: str, asked: str) -> _Target:
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise _error("extract_url_scheme", asked, scheme=scheme or "(none)")
        if not parts.hostname:
            raise ValueError("no host name")
        if parts.username is not None or parts.password is not None:
            raise ValueError("user names and passwords in the address are not supported")
        host = parts.hostname.rstrip(".")
        host = host if _is_ip(host) else host.encode("idna").decode("ascii").lower()
        port = parts.port or (443 if scheme == "https" else 80)
    except ReadError:
        raise
    except (ValueError, UnicodeError) as error:
        raise _error("extract_url_invalid", asked, url=url, detail=str(error)) from None
    path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
    if parts.query:
        path += "?" + quote(parts.query, safe="/%:@!$&'()*+,;=-._~?")
    shown = f"[{host}]" if ":" in host else host
    default = (scheme, port) in (("http", 80), ("https", 443))
    return _Target(url, scheme, host, port, path, shown if default else f"{shown}:{port}")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def _checked_addresses(target: _Target, policy: FetchPolicy, deadline: float, asked: str) -> list[str]:
    """All addresses of the host, each checked; one internal address refuses the whole host."""
    if target.host in METADATA_HOSTS:
        raise _error("extract_url_blocked", asked, host=target.host, address=target.host, kind="cloud metadata",
                     kind_zh=zh("cloud metadata"))
    addresses = [target.host] if _is_ip(target.host) else _resolve(target, policy, deadline, asked)
    for address in addresses:
        kind = refusal(address, target.port, policy)
        if kind is not None:
            raise _error("extract_url_blocked", asked, host=target.host, address=address, kind=kind, kind_zh=zh(kind))
    return addresses


def _system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def _resolve(target: _Target, policy: FetchPolicy, deadline: float, asked: str) -> list[str]:
    resolver = policy.resolver or _system_resolver
    # getaddrinfo has no timeout of its own; the wait is bounded, the lookup thread ends on its own.
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        addresses = pool.submit(resolver, target.host, target.port).result(timeout=_remaining(deadline, policy, asked))
    except FutureTimeout:
        raise _error("extract_url_timeout", asked, seconds=policy.timeout_s) from None
    except (OSError, UnicodeError) as error:
        raise _error("extract_url_dns", asked, host=target.host, detail=str(error)) from None
    finally:
        pool.shutdown(wait=False)
    if not addresses:
        raise _error("extract_url_dns", asked, host=target.host, detail="no addresses")
    return list(addresses)


def _remaining(deadline: float, policy: FetchPolicy, asked: str) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise _error("extract_url_timeout", asked, seconds=policy.timeout_s)
    return left


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a checked IP address, with SNI and certificate checks for the original host name."""

    def __init__(self, address: str, port: int, server_hostname: str, timeout: float):
        super().__init__(address, port, timeout=timeout, context=ssl.create_default_context())
        self._server_hostname = server_hostname

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self._server_hostname)


def _request(target: _Target, addresses: list[str], policy: FetchPolicy, deadline: float, asked: str):
    headers = {"Host": target.host_header, "User-Agent": policy.user_agent, "Accept": ACCEPT,
               "Accept-Encoding": "gzip, deflate", "Connection": "close"}
    last = None
    for address in addresses:
        timeout = _remaining(deadline, policy, asked)
        if target.scheme == "https":
            connection = _PinnedHTTPSConnection(address, target.port, target.host, timeout)
        else:
            connection = http.client.HTTPConnection(address, target.port, timeout=timeout)
        try:
            connection.request("GET", target.path, headers=headers)
            # kept: http.client drops connection.sock once a response says it closes the connection
            sock = connection.sock
            return connection, sock, connection.getresponse()
        except TimeoutError:
            connection.close()
            raise _error("extract_url_timeout", asked, seconds=policy.timeout_s) from None
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            last = error
    raise _error("extract_url_unreachable", asked, host=target.host, detail=str(last) or type(last).__name__)


def _content_type(header: str) -> tuple[str, str | None]:
    media_type, *parameters = [part.strip() for part in header.split(";")]
    charset = None
    for parameter in parameters:
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip("\"'")
    return media_type.lower(), charset


def _read_body(sock, response, policy: FetchPolicy, deadline: float, asked: str) -> bytes:
    """The body, streamed: refused as soon as it passes max_bytes (declared or counted), or runs out of time."""
    limit_mb = round(policy.max_bytes / MB, 2)
    declared = response.getheader("Content-Length")
    if declared and declared.strip().isdigit() and int(declared) > policy.max_bytes:
        size = f"{int(declared) / MB:,.1f} MB"
        raise _error("extract_url_too_large", asked, limit=limit_mb, detail=f" (Content-Length {size})",
                     detail_zh=f"（Content-Length 为 {size}）")
    encoding = (response.getheader("Content-Encoding") or "identity").strip().lower()
    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS if encoding in ("gzip", "x-gzip") else zlib.MAX_WBITS) \
        if encoding in ("gzip", "x-gzip", "deflate") else None
    parts, size = [], 0
    try:
        while True:
            sock.settimeout(_remaining(deadline, policy, asked))
            raw = response.read1(READ_BYTES)  # read1: one receive, so a slow trickle still meets the deadline
            if not raw:
                break
            # max_length bounds what one compressed block may expand to (a "zip bomb" stops here too)
            data = decoder.decompress(raw, policy.max_bytes + 1 - size) if decoder else raw
            size += len(data)
            if size > policy.max_bytes or (decoder is not None and decoder.unconsumed_tail):
                raise _error("extract_url_too_large", asked, limit=limit_mb, detail="", detail_zh="")
            parts.append(data)
            _remaining(deadline, policy, asked)
    except TimeoutError:
        raise _error("extract_url_timeout", asked, seconds=policy.timeout_s) from None
    except (OSError, http.client.HTTPException, zlib.error) as error:
        raise _error("extract_url_unreachable", asked, host=urlsplit(asked).hostname or asked,
                     detail=f"the download broke off: {error}") from None
    return b"".join(parts)


def _sniff(data: bytes) -> str:
    """The kind of a body served without a Content-Type header."""
    head = data[:1024].lstrip().lower()
    if head.startswith(b"%pdf"):
        return "pdf"
    if head.startswith(b"pk\x03\x04"):
        return "docx"
    if head.startswith((b"<!doctype html", b"<html", b"<?xml")) or b"<body" in head:
        return "html"
    return "txt"
