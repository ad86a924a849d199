"""Who the client is behind reverse proxies: X-Forwarded-For counts only as far back as the hops are trusted."""
import pytest

from server.config import ConfigError, load_config
from server.proxies import client_address, parse_proxies

TRUSTED = parse_proxies("127.0.0.1, ::1, 10.0.0.0/8")


@pytest.mark.parametrize("peer,forwarded_for,client", [
    ("203.0.113.7", "1.2.3.4", "203.0.113.7"),  # not from a proxy: the header is the client's own words
    ("203.0.113.7", None, "203.0.113.7"),
    ("127.0.0.1", None, "127.0.0.1"),  # a trusted proxy that says nothing is the client
    ("127.0.0.1", "198.51.100.20", "198.51.100.20"),
    ("127.0.0.1", "1.2.3.4, 198.51.100.20", "198.51.100.20"),  # the client wrote 1.2.3.4 itself
    ("127.0.0.1", "1.2.3.4, 198.51.100.20, 10.0.0.5", "198.51.100.20"),  # two trusted hops
    ("127.0.0.1", "10.0.0.9, 10.0.0.5", "10.0.0.9"),  # trusted all the way: the leftmost
    ("::1", "2001:db8::7", "2001:db8::7"),
    ("127.0.0.1", "garbage, 198.51.100.20", "198.51.100.20"),
    ("127.0.0.1", "198.51.100.20, garbage", "127.0.0.1"),  # a proxy's entry is not an address: stop there
    ("127.0.0.1", "198.51.100.20:4711", "127.0.0.1"),
    ("10.0.0.5", "  198.51.100.20 ,", "198.51.100.20"),
])
def test_client_address(peer, forwarded_for, client):
    assert client_address(peer, forwarded_for, TRUSTED) == client


def test_trusting_nobody():
    assert client_address("127.0.0.1", "198.51.100.20", parse_proxies("")) == "127.0.0.1"


def test_the_setting_is_a_list_of_addresses_and_networks():
    assert load_config(environ={})["TRUSTED_PROXIES"] == parse_proxies("127.0.0.1,::1")
    assert load_config(environ={"WUYE_TRUSTED_PROXIES": ""})["TRUSTED_PROXIES"] == ()
    assert [str(n) for n in load_config(environ={"WUYE_TRUSTED_PROXIES": "10.0.0.0/8, 172.18.0.1"})[
        "TRUSTED_PROXIES"]] == ["10.0.0.0/8", "172.18.0.1/32"]
    for bad in ("1", "2", "nginx", "10.0.0.0/33", "10.0.0.1/8"):
        with pytest.raises(ConfigError, match="WUYE_TRUSTED_PROXIES"):
            load_config(environ={"WUYE_TRUSTED_PROXIES": bad})
