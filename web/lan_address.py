"""This computer's address on the local network: what phones in a workshop room type or
scan to reach a laptop serving the atlas (never 127.0.0.1, which on a phone is the phone).
"""

from __future__ import annotations

import ipaddress
import socket

# One address in each private range: "connecting" a UDP socket sends nothing, it only
# asks the system which of its own addresses it would send from.
_PROBES = ("192.168.1.1", "10.0.0.1", "172.16.0.1", "169.254.1.1")


def _usable(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return not (ip.is_loopback or ip.is_unspecified or ip.is_multicast)


def lan_address() -> str | None:
    """An IPv4 address of this computer on a local network, or None without one (no
    network interface up but the loopback)."""
    for probe in _PROBES:
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.connect((probe, 9))
                address = s.getsockname()[0]
        except OSError:
            continue
        if _usable(address):
            return address
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        return None
    found = [str(info[4][0]) for info in infos]
    return next((a for a in found if _usable(a)), None)


def link_host(listen: str) -> str:
    """The host join links and QR codes should name when serving on ``listen``: that
    address itself, or for every interface (``0.0.0.0``, ``::``) the LAN address found,
    or the loopback when there is none."""
    if listen not in ("0.0.0.0", "::", ""):
        return listen
    return lan_address() or "127.0.0.1"
