"""The address a request came from, for per-address throttling.

The TCP peer is the client, unless the peer is one of the reverse proxies configured in
`FORYOU_TRUSTED_PROXIES`. Only then is `X-Forwarded-For` read, from its right end (the entry
the nearest proxy wrote) towards the left, skipping further trusted proxies: the first
address that is not a trusted proxy is the client. Entries further left were written by the
client itself and are never believed, so a client cannot pick its own throttle key by
sending the header. `foryou serve` runs uvicorn without its own proxy-header handling, so
this is the one place that decides.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

UNKNOWN_ADDRESS = "unknown"


def parse_networks(values: Iterable[str]) -> list[IPNetwork]:
    """`10.0.0.0/8`, `127.0.0.1` or `::1` into networks; ValueError names the bad entry."""
    networks: list[IPNetwork] = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{value!r} is not an IP address or CIDR network") from None
    return networks


def _address(value: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def client_address(
    peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[IPNetwork]
) -> str:
    """The client's address: `peer` (the TCP peer), or what the trusted proxies forwarded.

    Args:
        peer: The TCP peer's address, None when the server does not know it.
        forwarded_for: Every `X-Forwarded-For` header value, in the order received.
        trusted: Networks of the reverse proxies whose header is believed.
    """
    if peer is None:
        return UNKNOWN_ADDRESS
    current = _address(peer)
    if current is None:
        return peer
    hops = [hop for value in forwarded_for for hop in value.split(",")]
    while hops and any(current in network for network in trusted):
        forwarded = _address(hops.pop())
        if forwarded is None:
            # A trusted proxy wrote something that is not an address: stop at the proxy
            # rather than guess, so every such request shares the proxy's budget.
            break
        current = forwarded
    return str(current)
