"""Admin base for records written only through services (audit rows, configuration history, the backup
catalog): staff can list, search and read them, never add, change or delete them in the admin."""

from django.contrib import admin


class ReadOnlyModelAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
