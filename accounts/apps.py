from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self):
        from majed_vanna.audit import set_audit_sink

        from . import schema  # noqa: F401  (registers the OpenAPI auth extension)
        from .services.audit import audit_log_write

        set_audit_sink(audit_log_write)  # the core's audit_record() writes AuditLog rows through this

        from django.apps import apps

        if apps.is_installed("django.contrib.admin"):
            from .admin import replace_third_party_pages

            replace_third_party_pages()
