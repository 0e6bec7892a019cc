"""NET: IPv4 assumptions in workloads (Python for now)."""
from __future__ import annotations

from v6lint.rule import Rule
from v6lint.rules.spk import check_ipv4_only_resolution

RULES = [
    Rule("NET005", "ipv4-only-resolution",
         "`socket.gethostbyname(...)` or `hostname -i/-I` feeding an address in Python code.", "warning",
         why="`gethostbyname` returns IPv4 addresses only, and `hostname -i` prints whatever the resolver "
             "returns first; on an IPv6 pod they yield nothing usable (or an IPv4 address the cluster does not "
             "route). `socket.getaddrinfo` returns both families.",
         example='host = socket.gethostbyname(name)        # bad\n'
                 'host = socket.getaddrinfo(name, None)[0][4][0]   # good',
         fix="none", check=check_ipv4_only_resolution, profiles=("ipv6", "dual"), languages=("python",),
         triggers=("gethostbyname", "hostname -"),
         references=("https://docs.python.org/3/library/socket.html#socket.gethostbyname",)),
]
