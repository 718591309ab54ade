"""The real URLconf plus one test-only view for the daphne test of the runners (``runner_server_settings``):
``POST /api/v1/test/slow-sql`` runs the statement of ``RUNNER_TEST_SQL`` on the data source of
``RUNNER_TEST_SOURCE`` (JSON: engine, url, timeout) twice at once and says how long that took."""

import asyncio
import json
import os
import time

from django.http import JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from agent.sql.runners import run
from agent.sql.types import CheckedSQL, DataSourceSpec, SqlTimeout
from majed_vanna.urls import handler400, handler403, handler404, handler500
from majed_vanna.urls import urlpatterns as real_urlpatterns


@csrf_exempt
async def slow_sql(request):
    source = json.loads(os.environ["RUNNER_TEST_SOURCE"])
    spec = DataSourceSpec(
        id=f"slow-{source['engine']}",
        name="slow",
        engine=source["engine"],
        url=source["url"],
        statement_timeout_ms=source["timeout_ms"],
    )
    checked = CheckedSQL(sql=os.environ["RUNNER_TEST_SQL"], dialect=source["engine"], tables=("numbers",))
    started = time.monotonic()
    outcomes = await asyncio.gather(run(spec, checked), run(spec, checked), return_exceptions=True)
    return JsonResponse(
        {
            "seconds": time.monotonic() - started,
            "outcomes": ["timeout" if isinstance(o, SqlTimeout) else type(o).__name__ for o in outcomes],
        }
    )


urlpatterns = [path("api/v1/test/slow-sql", slow_sql), path("", include(real_urlpatterns))]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
