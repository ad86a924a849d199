from server.auth import tokens


def test_round_trip_and_forgery():
    token = tokens.sign("k1", "abc")
    assert tokens.unsign("k1", token) == "abc"
    assert tokens.unsign("k2", token) is None  # another key: forged
    assert tokens.unsign("k1", token[:-2] + "xx") is None
    assert tokens.unsign("k1", "garbage") is None
