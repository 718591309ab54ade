from django.apps import AppConfig


class MajedVannaConfig(AppConfig):
    name = "majed_vanna"
    verbose_name = "Majed Vanna core"

    def ready(self):
        from django.core.signals import request_finished

        from . import db_pools
        from .logging import install_request_id_record_factory
        from .middleware import clear_request_context

        install_request_id_record_factory()
        db_pools.install()
        request_finished.connect(clear_request_context, dispatch_uid="majed_vanna.clear_request_context")
