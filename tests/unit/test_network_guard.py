"""The autouse guard in conftest refuses any address that is not loopback."""
import socket

import pytest
import requests


def test_guard_refuses_the_internet():
    with pytest.raises(OSError, match="non-loopback"):
        socket.create_connection(("93.184.216.34", 443), timeout=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get("https://api.weixin.qq.com/cgi-bin/token", timeout=1)


def test_guard_allows_loopback():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    with socket.create_connection(server.getsockname(), timeout=1):
        pass
    server.close()
