"""The API's entry points, read from the URL resolver (never a hand-kept list), for ``GET /api/v1/``.

An entry point is a named route of the ``api-v1`` namespace that takes no argument: the list routes of
every router, the plain paths (``auth/login``, ``config``, ``health``...) and the docs. A route added to
any app's ``urls.py`` appears here by itself.
"""

from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, get_urlconf, reverse

NAMESPACE = "api-v1"
ROOT_NAME = "root"


def _route_names(patterns, prefix: str = "") -> list[str]:
    names = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            nested = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
            names += _route_names(pattern.url_patterns, nested)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.append(prefix + pattern.name)
    return names


def api_entry_points() -> dict[str, str]:
    """``{route name: path}`` of every argument-free ``api-v1`` route but this index, ordered by path."""
    resolver = get_resolver(get_urlconf())
    _prefix, api = resolver.namespace_dict[NAMESPACE]
    paths = {}
    for name in dict.fromkeys(_route_names(api.url_patterns)):
        if name == ROOT_NAME:
            continue
        try:
            paths[name] = reverse(f"{NAMESPACE}:{name}")
        except NoReverseMatch:  # needs an id (a detail route): not an entry point
            continue
    return dict(sorted(paths.items(), key=lambda item: (item[1], item[0])))
