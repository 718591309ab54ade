"""Services enforce the rules on their own (the admin and operators call them without the serializer)."""

import pytest
from django.core.exceptions import ValidationError

from config_api.models import RuntimeConfiguration
from config_api.services import config_update


def test_config_update_refuses_bad_values_per_field(admin):
    with pytest.raises(ValidationError) as excinfo:
        config_update(
            actor=admin,
            changes={"backup_path": "/etc", "data_source_url": "mysql://x", "rate_limit_window": 0},
        )
    assert {"backup_path", "data_source_url"} <= set(excinfo.value.message_dict)
    assert not RuntimeConfiguration.objects.exists()


def test_config_update_range_checks_come_from_the_model(admin):
    with pytest.raises(ValidationError) as excinfo:
        config_update(actor=admin, changes={"rate_limit_window": 0, "circuit_breaker_timeout": 4000})
    assert set(excinfo.value.message_dict) == {"rate_limit_window", "circuit_breaker_timeout"}


def test_unchanged_values_do_not_bump_the_version(admin):
    first = config_update(actor=admin, changes={"llm_model": "m"})
    again = config_update(actor=admin, changes={"llm_model": "m"})
    assert first.version == again.version == 2
    assert again.stamp == first.stamp
