"""The agent's services (writes), one module per sub-domain, re-exported here."""

from agent.knowledge.demo_questions import demo_questions_save

from .demo_data import demo_postgresql_install, demo_sqlite_install
from .evals import demo_eval_set_install
from .source_probes import data_source_schema, data_source_test
from .sources import (
    data_source_check,
    data_source_create,
    data_source_default_ensure,
    data_source_delete,
    data_source_follow_config,
    data_source_register,
    data_source_update,
    data_sources_reencrypt,
)

__all__ = [
    "data_source_check",
    "data_source_create",
    "data_source_default_ensure",
    "data_source_delete",
    "data_source_follow_config",
    "data_source_register",
    "data_source_schema",
    "data_source_test",
    "data_source_update",
    "data_sources_reencrypt",
    "demo_eval_set_install",
    "demo_postgresql_install",
    "demo_questions_save",
    "demo_sqlite_install",
]
