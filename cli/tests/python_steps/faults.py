"""Functions of the Python-step tests that break the rules, one way each."""

import pandas as pd


def raises(n: int):
    """Fails with an exception of its own."""
    raise ValueError(f"n was {n}")


def partial():
    """Returns a valid first table and a second one with a null in a non-optional column."""
    good = pd.DataFrame({"id": [1, 2]})
    bad = pd.DataFrame({"id": [1, None, 3]})
    return good, bad


def wrong_type():
    """A column of text where Int is declared."""
    return pd.DataFrame({"id": ["1", "x"]})


def missing_column():
    """A table without the declared column."""
    return pd.DataFrame({"other": [1]})


def two_of_three():
    """Returns two values for three outputs."""
    return 1, 2


def not_json():
    """A set cannot be JSON."""
    return {"values": {1, 2}}
