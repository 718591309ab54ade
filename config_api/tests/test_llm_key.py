"""Rotating SECRET_KEY never silently loses the stored LLM API key: with the old key in
SECRET_KEY_FALLBACKS it still decrypts, ``reencrypt_secrets`` moves it to the new key, and a key that cannot
be decrypted at all is reported (config, health, test-llm, one log line), never replaced by LLM_API_KEY."""

import logging

import pytest
from django.core.management import CommandError, call_command

from config_api import health_checks
from config_api.models import ConfigurationChange, RuntimeConfiguration
from config_api.selectors import llm_api_key, llm_key
from config_api.services import config_update

OLD = "old-secret-key-" + "o" * 40
NEW = "new-secret-key-" + "n" * 40
KEY = "sk-stored-key-123"


@pytest.fixture
def stored_key(admin, settings):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = OLD, []
    config_update(actor=admin, changes={"llm_provider": "openai", "llm_model": "m", "llm_api_key": KEY})
    return KEY


def test_after_rotation_the_fallback_decrypts_and_reencrypt_makes_it_unnecessary(stored_key, settings, capsys):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW, [OLD]
    assert llm_api_key() == KEY
    version = RuntimeConfiguration.objects.get().version

    call_command("reencrypt_secrets")
    assert "LLM API key (config_api.llm_api_key)" in capsys.readouterr().out
    settings.SECRET_KEY_FALLBACKS = []
    assert llm_key().source == "stored" and llm_api_key() == KEY
    assert RuntimeConfiguration.objects.get().version == version  # not a configuration change
    assert ConfigurationChange.objects.count() == 1


def test_an_unreadable_key_is_reported_and_not_replaced_by_the_environment(
    stored_key, settings, admin, api_client_for, caplog
):
    settings.LLM_API_KEY = "sk-from-environment"
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW, []
    caplog.set_level(logging.ERROR, logger="config_api.selectors")

    assert llm_key().source == "unreadable"
    assert llm_api_key() == ""  # never the environment's key in its place
    data = api_client_for(admin).get("/api/v1/config").json()["data"]
    assert (data["llm_api_key_status"], data["llm_api_key_set"]) == ("unreadable", False)

    result = health_checks.llm_check()
    assert (result.status, result.details["reason"]) == ("degraded", "api_key_unreadable")

    lines = [record.getMessage() for record in caplog.records if "cannot be decrypted" in record.getMessage()]
    assert len(lines) == 1  # once per process, not per read
    assert KEY not in caplog.text and "sk-from-environment" not in caplog.text

    with pytest.raises(CommandError) as refused:
        call_command("reencrypt_secrets", "--field", "config_api.llm_api_key")
    assert "1 secret(s)" in str(refused.value) and "\n" not in str(refused.value)


def test_test_llm_says_the_stored_key_is_unreadable(stored_key, settings, admin, api_client_for):
    settings.LLM_API_KEY = "sk-from-environment"
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW, []
    response = api_client_for(admin).post("/api/v1/config/test-llm")
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["status"] == "failure" and "cannot be decrypted" in data["message"]
    assert data["details"]["reason"] == "api_key_unreadable"


def test_environment_key_is_used_when_none_is_stored(db, settings):
    settings.LLM_API_KEY = "sk-from-environment"
    assert llm_key().source == "environment" and llm_api_key() == "sk-from-environment"


def test_a_blank_key_clears_the_stored_one(stored_key, admin):
    config_update(actor=admin, changes={"llm_api_key": ""})
    assert RuntimeConfiguration.objects.get().llm_api_key_encrypted == ""
    assert llm_key().source == "not_set"
