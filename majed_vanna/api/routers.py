"""One router class for every app: paths answer with or without a trailing slash (contract paths have none)."""

from rest_framework.routers import SimpleRouter


class ApiRouter(SimpleRouter):
    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"
