"""The admin's login form: accounts sign in with their e-mail address, so it says "Email", not "Username"."""

from django.contrib.admin.forms import AdminAuthenticationForm


class EmailLoginForm(AdminAuthenticationForm):
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "invalid_login": "Please enter the correct email and password for a staff account.",
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = "Email"
