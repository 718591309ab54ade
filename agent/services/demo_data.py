"""The demo data sources (README "Demo data"): the SQLite file ``seed_demo`` builds, and the same rows loaded
into a PostgreSQL database by ``load_demo_data``, each registered as a data source (idempotent)."""

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from .. import demo
from ..models import DataSource
from ..selectors import data_source_by_url
from .sources import data_source_register, demo_sqlite_url


@dataclass(frozen=True)
class DemoInstall:
    path: Path | None
    built: bool
    source: DataSource
    registered: bool  # the data source was created now


def demo_sqlite_install(*, by: str) -> DemoInstall:
    """Build ``$MV_DATA_DIR/demo.sqlite3`` unless it exists, and register it as the data source ``demo``.
    It is the default source unless the runtime configuration names another data source (then that one is
    the default and ``demo`` is added beside it)."""
    path = Path(settings.DATA_DIR) / "demo.sqlite3"
    built = not path.exists()
    if built:
        demo.build_demo_sqlite(path)
    existed = data_source_by_url(demo_sqlite_url()) is not None
    source, _ = data_source_register(name="demo", url=demo_sqlite_url(), by=by)
    return DemoInstall(path=path, built=built, source=source, registered=not existed)


def demo_postgresql_install(*, url: str, name: str, replace: bool, by: str) -> DemoInstall:
    """Load the demo rows into the PostgreSQL database at ``url`` (``demo.DemoTablesExist`` if other tables
    of these names are there and not ``replace``) and register it as the data source ``name``."""
    _digest, loaded = demo.load_demo_postgresql(url, replace=replace)
    existed = data_source_by_url(url) is not None
    source, _ = data_source_register(name=name, url=url, by=by)
    return DemoInstall(path=None, built=loaded, source=source, registered=not existed)
