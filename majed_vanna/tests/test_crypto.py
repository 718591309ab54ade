"""One encryption module: keys derived per purpose from SECRET_KEY and SECRET_KEY_FALLBACKS; the
re-encrypt command covers every registered encrypted field."""

import pytest
from django.core.management import CommandError, call_command

from majed_vanna import crypto

OLD = "old-secret-key-" + "o" * 40
NEW = "new-secret-key-" + "n" * 40


def test_round_trip_and_purposes_are_separate(settings):
    token = crypto.encrypt("s3cret", purpose="config")
    assert "s3cret" not in token
    assert crypto.decrypt(token, purpose="config") == "s3cret"
    with pytest.raises(crypto.SecretUnreadableError):
        crypto.decrypt(token, purpose="integrations")


def test_rotation_with_a_fallback_then_reencrypt(settings):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = OLD, []
    token = crypto.encrypt("s3cret", purpose="config")
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW, [OLD]
    assert crypto.decrypt(token, purpose="config") == "s3cret"
    rotated = crypto.reencrypt(token, purpose="config")
    settings.SECRET_KEY_FALLBACKS = []
    assert crypto.decrypt(rotated, purpose="config") == "s3cret"
    with pytest.raises(crypto.SecretUnreadableError):
        crypto.decrypt(token, purpose="config")
    with pytest.raises(crypto.SecretUnreadableError):
        crypto.reencrypt(token, purpose="config")


def test_garbage_is_unreadable_not_an_exception_of_another_kind():
    for junk in ("", "not-a-token", "gAAAA" + "x" * 50, "é"):
        with pytest.raises(crypto.SecretUnreadableError):
            crypto.decrypt(junk, purpose="config")


def test_every_encrypted_field_is_registered():
    names = {field.name for field in crypto.encrypted_fields()}
    assert {"config_api.llm_api_key", "integrations.client_secret"} <= names


def test_reencrypt_command_reports_progress_per_field(db, capsys):
    call_command("reencrypt_secrets")
    out = capsys.readouterr().out
    assert "LLM API key (config_api.llm_api_key)" in out
    assert "integration client secrets (integrations.client_secret)" in out
    assert "Every encrypted field now uses the newest key." in out


def test_reencrypt_command_refuses_an_unknown_field_in_one_line(db):
    with pytest.raises(CommandError) as refused:
        call_command("reencrypt_secrets", "--field", "nope")
    assert "\n" not in str(refused.value) and "config_api.llm_api_key" in str(refused.value)
