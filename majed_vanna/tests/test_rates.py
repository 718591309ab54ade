"""``majed_vanna.rates``: a rate set at run time (``PUT config`` ``rate_limits``, a client's ``rate_limit``) has a
period the shared cache can count in.

A period of, say, ``1/99999999999999999d`` passed the check: on Redis the counter's ``EXPIRE`` then failed
("value is not an integer or out of range"), the throttle failed open on every request (no limit at all for
that scope) and each caller's counter stayed in Redis forever (found by the review of issue 12).
"""

import pytest

from majed_vanna.rates import MAX_PERIOD_SECONDS, check_rate, check_rate_map

CONFIG_URL = "/api/v1/config"


@pytest.mark.parametrize(
    "rate", ["1/99999999999999999d", "1/100000000000000000000s", "10/2d", f"5/{MAX_PERIOD_SECONDS + 1}s"]
)
def test_a_period_longer_than_a_day_is_refused(rate):
    with pytest.raises(ValueError, match="at most one day"):
        check_rate(rate)


@pytest.mark.parametrize("rate", ["1000/day", "1/d", f"5/{MAX_PERIOD_SECONDS}s", "100/24h"])
def test_a_period_up_to_a_day_is_accepted(rate):
    assert check_rate(rate) == rate


def test_the_rate_map_names_the_scope_with_the_long_period():
    with pytest.raises(ValueError) as caught:
        check_rate_map({"agent.chat": "1/99999999999999999d", "users.list": "10/hour"})
    assert list(caught.value.errors) == ["agent.chat"]


@pytest.mark.django_db
def test_put_config_refuses_a_rate_the_cache_cannot_count(admin, api_client_for):
    response = api_client_for(admin).put(
        CONFIG_URL, {"rate_limits": {"default": "1/99999999999999999d"}}, format="json"
    )
    assert response.status_code == 422, response.json()
    assert list(response.json()["error"]["details"]) == ["rate_limits"]
