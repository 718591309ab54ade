from django.apps import AppConfig


class MajedVannaConfig(AppConfig):
    name = "majed_vanna"
    verbose_name = "Majed Vanna core"
