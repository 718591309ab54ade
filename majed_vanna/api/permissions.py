"""Permissions as the request policy reads them (``majed_vanna.api.policy``).

Principals (users and integration clients) expose ``mv_permissions``: the set of contract §4 permission
names they hold. Views declare what each action needs::

    required_permissions = {"list": "read_user", "create": "create_user"}   # or one string for all

Views that only make sense for a person (a user's own account, password, refresh tokens) set
``users_only = True``: integration clients get 403 there whatever their permissions (contract §4).
"""


def declared_keys(view, request) -> tuple[str, ...]:
    """The keys a declaration by action or HTTP method is looked up with, in order: the action, the method,
    and for ``HEAD`` also ``get`` (Django serves HEAD with the GET handler: it needs what GET needs)."""
    method = request.method.lower()
    keys = (getattr(view, "action", None), method, "get" if method == "head" else None)
    return tuple(key for key in keys if key)


def principal_permissions(user) -> frozenset[str]:
    return frozenset(getattr(user, "mv_permissions", ()) or ())


def required_permission(view, request) -> str | None:
    required = getattr(view, "required_permissions", None)
    if required is None:
        return None
    if isinstance(required, str):
        return required
    for key in declared_keys(view, request):
        if key in required:
            return required[key]
    return None
