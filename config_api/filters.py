"""Query filters for ``GET backups`` (contract §2), run by ``majed_vanna.api.filtering``."""

import django_filters

from .models import Backup, BackupKind, BackupStatus


class BackupFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=BackupStatus.choices, help_text="The backup's own status.")
    kind = django_filters.ChoiceFilter(choices=BackupKind.choices, help_text="How the backup was made.")

    class Meta:
        model = Backup
        fields = ["status", "kind"]
