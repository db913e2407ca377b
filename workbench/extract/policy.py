"""Which addresses `fetch` may contact: the strict default policy, its exceptions, and the settings switch.

Internal addresses are loopback, private, link-local, multicast, reserved, unspecified and other
non-global ones (IPv4 inside IPv6 included), plus cloud instance-metadata services, which stay
refused even when the user allows private network URLs.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field

from ..storage import read_settings, update_settings

MB = 1024 * 1024
# Addresses and names of cloud instance-metadata services: never fetched, whatever the settings say.
METADATA_ADDRESSES = frozenset({"169.254.169.254", "169.254.170.2", "169.254.169.123", "100.100.100.200",
                                "fd00:ec2::254", "fd00:ec2::23"})
METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata.goog", "metadata", "instance-data",
                            "instance-data.ec2.internal", "metadata.tencentyun.com", "metadata.azure.internal"})
SETTINGS_FILE = "extract.json"

Resolver = Callable[[str, int], list[str]]


@dataclass(frozen=True)
class FetchPolicy:
    """What `fetch` may contact and how much it may download. The defaults are the strict policy."""

    allow_private: bool = False
    """Allow loopback/private/link-local/reserved targets (an intranet wiki). Cloud metadata stays refused."""
    allowed_addresses: tuple[str, ...] = ()
    """Exceptions to the address check: "127.0.0.1", "127.0.0.1:8123", "[::1]:8123" or a network "10.1.0.0/16"."""
    max_bytes: int = 10 * MB
    """The download is stopped and refused past this many bytes (after decompression)."""
    timeout_s: float = 20.0
    """Total time for all hops: resolving, connecting, redirects and reading the body."""
    max_redirects: int = 5
    user_agent: str = "Workbench/1.0 (dataset builder; +https://github.com/)"
    resolver: Resolver | None = field(default=None, compare=False, repr=False)
    """host, port -> IP addresses; None = the system resolver. Tests inject one to simulate DNS answers."""

    def __post_init__(self):
        for entry in self.allowed_addresses:
            try:
                _listed("127.0.0.1", 0, (entry,))
            except ValueError:
                raise ValueError(f"'{entry}' is not an address, address:port or network / "
                                 f"“{entry}”不是有效的地址、地址:端口或网段") from None


STRICT = FetchPolicy()


def address_kind(address: str) -> str | None:
    """Why an IP address is internal ("loopback", "private", "cloud metadata", ...) or None when public."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if str(ip) in METADATA_ADDRESSES:
        return "cloud metadata"
    if ip.version == 6:
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return address_kind(str(embedded))
    for kind, flag in (("unspecified", ip.is_unspecified), ("loopback", ip.is_loopback),
                       ("link-local", ip.is_link_local), ("multicast", ip.is_multicast),
                       ("reserved", ip.is_reserved), ("private", ip.is_private)):
        if flag:
            return kind
    return None if ip.is_global else "non-public"


def _embedded_ipv4(ip: ipaddress.IPv6Address):
    """The IPv4 address inside an IPv4-mapped, 6to4 or NAT64 IPv6 address (they reach that IPv4 host)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in ipaddress.ip_network("64:ff9b::/96"):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def refusal(address: str, port: int, policy: FetchPolicy) -> str | None:
    """The kind of internal address when `policy` refuses to connect to address:port, else None."""
    kind = address_kind(address)
    if kind is None:
        return None
    if kind == "cloud metadata":
        return kind
    if policy.allow_private or _listed(address, port, policy.allowed_addresses):
        return None
    return kind


def _listed(address: str, port: int, entries: tuple[str, ...]) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    for entry in entries:
        entry = entry.strip()
        entry_port = None
        if entry.startswith("["):
            entry, _, rest = entry[1:].partition("]")
            entry_port = int(rest[1:]) if rest.startswith(":") else None
        elif entry.count(":") == 1:
            entry, _, text = entry.partition(":")
            entry_port = int(text)
        if entry_port is not None and entry_port != port:
            continue
        if ip in ipaddress.ip_network(entry, strict=False):
            return True
    return False


# --- settings (the page's switch; off by default) ------------------------------------------------
def fetch_policy_for(ws, allow_private: bool = False) -> FetchPolicy:
    """The workspace's policy: strict unless the user switched on private network URLs in the settings, or
    `allow_private` does for one command (the CLI's --allow-private-urls; never saved)."""
    settings = read_settings(ws.root, SETTINGS_FILE)
    return FetchPolicy(allow_private=bool(allow_private or settings.get("allow_private_urls", False)))


def save_fetch_settings(ws, allow_private_urls: bool) -> None:
    update_settings(ws.root, SETTINGS_FILE, allow_private_urls=bool(allow_private_urls))
