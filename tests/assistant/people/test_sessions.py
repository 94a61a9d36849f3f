"""Widget session tokens: what a token carries, and what is no token."""

from __future__ import annotations

import pytest

from assistant.people.sessions import MAX_MINUTES, mint, verify


def test_a_token_carries_its_person_and_groups_until_it_expires():
    token = mint("s", " dana ", [" hr", "staff", "hr", ""], minutes=2, now=0)
    assert verify("s", token, now=119) == ("dana", ("hr", "staff"))
    assert verify("s", token, now=120) is None


@pytest.mark.parametrize("change", [
    lambda t: t.replace("askdoc1.", "askdoc2."),
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # the signature
    lambda t: t[:12] + ("A" if t[12] != "A" else "B") + t[13:],  # the payload
    lambda t: t.split(".")[0] + "." + t.split(".")[1],  # no signature
    lambda t: "",
])
def test_an_altered_token_is_no_one(change):
    assert verify("s", change(mint("s", "dana", ["hr"], minutes=5, now=0)), now=1) is None


@pytest.mark.parametrize("user, minutes", [("", 5), ("  ", 5), ("dana", 0), ("dana", MAX_MINUTES + 1), ("dana", -1)])
def test_a_session_names_someone_and_lasts_minutes(user, minutes):
    with pytest.raises(ValueError):
        mint("s", user, [], minutes=minutes)
