"""Data-source services: encryption, validation per field, the default source and the runtime configuration,
audit rows without a password."""

import json

import pytest
from django.core.exceptions import ValidationError

from accounts.models import AuditLog
from agent import selectors, services
from agent.models import DataSource
from config_api.selectors import config_public
from config_api.services import config_update
from majed_vanna import crypto
from majed_vanna.exceptions import ConflictError

from .factories import PASSWORD, PG_URL, make_source, sqlite_file

pytestmark = pytest.mark.django_db


def audit_text() -> str:
    return json.dumps(list(AuditLog.objects.values("details", "error_message")), default=str)


def test_the_url_is_stored_encrypted_and_audited_masked(admin):
    source = make_source(name="Shop", url=PG_URL, actor=admin)
    stored = DataSource.objects.values_list("url_encrypted", flat=True).get(pk=source.pk)
    assert PASSWORD not in stored and "db.example.com" not in stored
    assert selectors.data_source_url(source) == PG_URL
    assert selectors.data_source_masked_url(source) == "postgresql://reader:********@db.example.com:5432/shop"
    row = AuditLog.objects.get(action="data_source.create", resource_id=str(source.pk))
    assert row.username == admin.username
    assert row.details["url"] == "postgresql://reader:********@db.example.com:5432/shop"
    assert PASSWORD not in audit_text()


def test_the_engine_comes_from_the_url_and_must_match_it(admin, sqlite_url):
    assert make_source(name="a", url=sqlite_url).engine == "sqlite"
    assert make_source(name="b", url=PG_URL).engine == "postgresql"
    with pytest.raises(ValidationError) as refused:
        make_source(name="c", url=sqlite_url, engine="postgresql")
    assert "does not match" not in str(refused.value) and "engine is postgresql" in refused.value.message_dict["url"][0]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"statement_timeout_ms": 99}, "statement_timeout_ms", "between 100 and 300000"),
        ({"statement_timeout_ms": 300_001}, "statement_timeout_ms", "between 100 and 300000"),
        ({"row_cap": 0}, "row_cap", "between 1 and 100000"),
        ({"row_cap": 100_001}, "row_cap", "between 1 and 100000"),
        ({"max_result_bytes": 1023}, "max_result_bytes", "between 1024"),
        ({"max_result_bytes": 100 * 1024 * 1024 + 1}, "max_result_bytes", "between 1024"),
        ({"roles": ["normal", "root"]}, "roles", "Unknown role(s): root"),
        ({"name": "  "}, "name", "blank"),
    ],
)
def test_each_bad_field_is_named(fields, field, message):
    values = {"name": "Shop", **fields}
    with pytest.raises(ValidationError) as refused:
        make_source(url=PG_URL, **values)
    assert message in " ".join(refused.value.message_dict[field])


def test_sqlite_files_must_exist_inside_the_allowed_roots(settings, tmp_path, roots):
    outside = sqlite_file(tmp_path.parent / f"{tmp_path.name}-outside" / "x.sqlite3")
    with pytest.raises(ValidationError) as refused:
        make_source(name="out", url=f"sqlite:///{outside}")
    assert "allowed roots" in refused.value.message_dict["url"][0]
    with pytest.raises(ValidationError) as refused:
        make_source(name="missing", url=f"sqlite:///{roots / 'missing.sqlite3'}")
    assert "No sqlite file" in refused.value.message_dict["url"][0]
    (roots / "text.db").write_text("not a database")
    with pytest.raises(ValidationError) as refused:
        make_source(name="text", url=f"sqlite:///{roots / 'text.db'}")
    assert "not a SQLite database" in refused.value.message_dict["url"][0]
    escape = f"sqlite:///{roots}/../{tmp_path.name}-outside/x.sqlite3"
    with pytest.raises(ValidationError):
        make_source(name="escape", url=escape)


def test_a_relative_sqlite_url_is_stored_absolute(settings):
    sqlite_file(settings.DATA_DIR / "rel.sqlite3")
    source = make_source(name="rel", url="sqlite:///rel.sqlite3")
    assert selectors.data_source_url(source) == f"sqlite:///{(settings.DATA_DIR / 'rel.sqlite3').resolve()}"


def test_names_are_unique_whatever_the_case():
    make_source(name="Shop", url=PG_URL)
    with pytest.raises(ConflictError):
        make_source(name="shop", url=PG_URL)


def test_a_masked_password_sent_back_keeps_the_stored_one(admin):
    source = make_source(name="Shop", url=PG_URL)
    masked = selectors.data_source_masked_url(source)
    services.data_source_update(source=source, actor=admin, url=masked, row_cap=50)
    source.refresh_from_db()
    assert selectors.data_source_url(source) == PG_URL and source.row_cap == 50


def test_a_new_password_is_audited_as_changed_never_shown(admin):
    source = make_source(name="Shop", url=PG_URL)
    services.data_source_update(source=source, actor=admin, url=PG_URL.replace(PASSWORD, "other-secret"))
    row = AuditLog.objects.get(action="data_source.update")
    assert row.details["changes"]["url"]["password_changed"] is True
    assert "other-secret" not in audit_text() and PASSWORD not in audit_text()


def test_an_update_without_a_change_is_not_audited(admin):
    source = make_source(name="Shop", url=PG_URL)
    services.data_source_update(source=source, actor=admin, row_cap=source.row_cap, name="Shop")
    assert not AuditLog.objects.filter(action="data_source.update").exists()


def test_a_new_url_drops_the_stored_schema(admin):
    source = make_source(name="Shop", url=PG_URL)
    services.sources.schema_store(source=source, snapshot={"tables": []})
    services.data_source_update(source=source, actor=admin, url=PG_URL.replace("shop", "shop2"))
    source.refresh_from_db()
    assert source.schema_snapshot is None and source.schema_fetched_at is None


# --- the default source and the runtime configuration


def effective_config_url() -> str:
    return config_public(include_admin_fields=True)["data_source_url"]


def test_first_use_makes_the_configuration_s_data_source_the_default(settings):
    assert not DataSource.objects.exists()
    default = services.data_source_default_ensure()
    assert default.is_default and default.name == "demo"  # the embedded default URL is the demo file
    assert selectors.data_source_url(default) == f"sqlite:///{(settings.DATA_DIR / 'demo.sqlite3').resolve()}"
    assert services.data_source_default_ensure() == default
    assert DataSource.objects.count() == 1
    row = AuditLog.objects.get(action="data_source.create")
    assert row.username == "system" and "runtime configuration" in row.details["reason"]


def test_a_configured_url_becomes_a_default_named_default(admin):
    config_update(actor=admin, changes={"data_source_url": PG_URL})
    default = services.data_source_default_ensure()
    assert default.name == "default" and default.engine == "postgresql"
    assert selectors.data_source_url(default) == PG_URL


def test_put_config_data_source_url_moves_the_default_source(admin):
    default = services.data_source_default_ensure()
    config_update(actor=admin, changes={"data_source_url": PG_URL})
    default.refresh_from_db()
    assert default.engine == "postgresql" and selectors.data_source_url(default) == PG_URL
    row = AuditLog.objects.get(action="data_source.update")
    assert row.details["reason"] == "config.update" and row.username == admin.username
    assert PASSWORD not in audit_text()


def test_making_another_source_the_default_changes_the_configuration(admin, sqlite_url):
    old = services.data_source_default_ensure()
    new = make_source(name="Shop", url=PG_URL, actor=admin, is_default=True)
    old.refresh_from_db()
    assert new.is_default and not old.is_default
    assert DataSource.objects.filter(is_default=True).count() == 1
    assert effective_config_url() == "postgresql://reader:********@db.example.com:5432/shop"
    other = make_source(name="Local", url=sqlite_url, actor=admin)
    services.data_source_update(source=other, actor=admin, is_default=True)
    assert effective_config_url() == sqlite_url
    assert list(DataSource.objects.filter(is_default=True)) == [other]


def test_changing_the_default_source_url_changes_the_configuration(admin, sqlite_url):
    default = make_source(name="Shop", url=PG_URL, actor=admin, is_default=True)
    services.data_source_update(source=default, actor=admin, url=sqlite_url)
    assert effective_config_url() == sqlite_url


def test_the_default_source_stays_deletable_only_after_another_is_default(admin):
    default = services.data_source_default_ensure()
    with pytest.raises(ConflictError):
        services.data_source_delete(source=default, actor=admin)
    with pytest.raises(ValidationError) as refused:
        services.data_source_update(source=default, actor=admin, is_default=False)
    assert "is_default" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        services.data_source_update(source=default, actor=admin, enabled=False)
    assert "enabled" in refused.value.message_dict
    make_source(name="Shop", url=PG_URL, actor=admin, is_default=True)
    services.data_source_delete(source=default, actor=admin)
    assert not DataSource.objects.filter(pk=default.pk).exists()
    assert AuditLog.objects.filter(action="data_source.delete", resource_id=str(default.pk)).exists()


def test_data_source_urls_are_re_encrypted_with_a_new_secret_key(settings):
    source = make_source(name="Shop", url=PG_URL)
    assert "agent.data_source_url" in {field.name for field in crypto.encrypted_fields()}
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-brand-new-secret-key-" + "x" * 40, [old_key]
    result = services.data_sources_reencrypt()
    assert result.reencrypted == DataSource.objects.count() == 2 and result.unreadable == 0  # with the default
    settings.SECRET_KEY_FALLBACKS = []
    source.refresh_from_db()
    assert selectors.data_source_url(source) == PG_URL


def test_an_unreadable_url_is_shown_as_such_and_refused_to_runners(settings):
    source = make_source(name="Shop", url=PG_URL)
    DataSource.objects.filter(pk=source.pk).update(url_encrypted="not-a-token")
    source.refresh_from_db()
    assert selectors.data_source_masked_url(source) == selectors.UNREADABLE_URL
    from majed_vanna.exceptions import ServiceUnavailableError

    with pytest.raises(ServiceUnavailableError):
        selectors.data_source_spec(source)


def test_a_new_password_on_the_default_source_reaches_the_configuration(admin):
    """The configuration compared masked URLs: a new password alone was dropped, and the health check and
    config/test-database went on with the old one."""
    from config_api.selectors import config_get

    default = make_source(name="Shop", url=PG_URL, actor=admin, is_default=True)
    new_url = PG_URL.replace(PASSWORD, "rotated-pass")
    services.data_source_update(source=default, actor=admin, url=new_url)
    assert config_get().data_source_url == new_url
    row = AuditLog.objects.filter(action="config.update").latest("id")
    assert row.details["new"]["data_source_url"].endswith("(password changed)")
    assert "rotated-pass" not in audit_text()
