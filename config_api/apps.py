from django.apps import AppConfig


class ConfigApiConfig(AppConfig):
    name = "config_api"
