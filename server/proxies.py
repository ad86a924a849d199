"""The client's address behind reverse proxies, trusting X-Forwarded-* only from the proxies we run.

`WUYE_TRUSTED_PROXIES` lists the proxies' addresses or networks (e.g. `127.0.0.1,10.0.0.0/8`; empty: none).
A request whose direct peer is not one of them is taken at its word about nothing: its address is the
peer's, whatever X-Forwarded-For it sends (anyone can write that header). From a trusted proxy, the
X-Forwarded-For chain is walked back from the right (the last proxy appended its own peer there) for as
long as the hops are trusted proxies; the first address that is not one is the client. What lies further
left was written by the client itself and is never read. X-Forwarded-Proto and -Host are likewise taken
only from a trusted peer (the nearest proxy's value).

This is the one place that decides the address rate limits (`ratelimit.client_ip`) and sessions see.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_proxies(value: str) -> tuple[Network, ...]:
    """'127.0.0.1, ::1, 10.0.0.0/8' -> networks; '' -> () (trust no proxy). A bare number is refused: the
    setting used to be a count of proxies, and trusting "the last N hops, whoever sent them" is the hole
    this list closes."""
    networks = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        if part.isdigit():
            raise ValueError(f"{part!r}: a list of proxy addresses or networks is expected (e.g. "
                             "127.0.0.1,10.0.0.0/8), not a number of proxies")
        try:
            networks.append(ipaddress.ip_network(part, strict=True))
        except ValueError as exc:
            raise ValueError(f"{part!r} is not an IP address or network ({exc})") from None
    return tuple(networks)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped  # ::ffff:10.0.0.1 is 10.0.0.1 (dual-stack sockets report it so)
    return ip


def _trusted(ip, proxies: Iterable[Network]) -> bool:
    return ip is not None and any(ip.version == net.version and ip in net for net in proxies)


def client_address(peer: str | None, forwarded_for: str | None, proxies: tuple[Network, ...]) -> str | None:
    """The client's address: `peer` (the direct connection) unless it is a trusted proxy, then back through
    X-Forwarded-For over trusted hops only. An entry that is not a plain address (a port, garbage) stops
    the walk at the last hop known good."""
    current = _address(peer or "")
    if current is None or not _trusted(current, proxies):
        return peer
    hops = [h for h in (forwarded_for or "").split(",") if h.strip()]
    while hops and _trusted(current, proxies):
        previous = _address(hops.pop())
        if previous is None:
            break
        current = previous
    return str(current)


class TrustedProxies:
    """WSGI middleware: REMOTE_ADDR becomes the client's address (above), wsgi.url_scheme and HTTP_HOST
    the nearest trusted proxy's X-Forwarded-Proto and -Host. The Flask app's TRUSTED_PROXIES is read on
    every request. The peer's own address is kept in environ["wuye.peer_addr"]."""

    def __init__(self, wsgi_app, config) -> None:
        self.wsgi_app, self.config = wsgi_app, config

    def __call__(self, environ, start_response):
        proxies = self.config.get("TRUSTED_PROXIES") or ()
        peer = environ.get("REMOTE_ADDR")
        environ["wuye.peer_addr"] = peer
        if proxies and _trusted(_address(peer or ""), proxies):
            environ["REMOTE_ADDR"] = client_address(peer, environ.get("HTTP_X_FORWARDED_FOR"), proxies)
            proto = _nearest(environ.get("HTTP_X_FORWARDED_PROTO")).lower()
            if proto in ("http", "https"):
                environ["wsgi.url_scheme"] = proto
            host = _nearest(environ.get("HTTP_X_FORWARDED_HOST"))
            if host:
                environ["HTTP_HOST"] = host
        return self.wsgi_app(environ, start_response)


def _nearest(header: str | None) -> str:
    """The rightmost value of a comma-separated forwarded header: the one our nearest proxy set."""
    return (header or "").rsplit(",", 1)[-1].strip()
