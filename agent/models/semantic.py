"""The semantic layer (contract §5 "Knowledge" → Semantic layer): what the tables, columns and numbers of one
data source mean, in the words its users ask with.

* ``SemanticTable`` / ``SemanticColumn``: created by the schema scan (``agent.services.semantic_sync``), then
  described by people (description, synonyms; tables also ``visible_to``: the roles that may see the table);
  columns keep a bounded list of ``sample_values`` (the distinct values of a low-cardinality column).
* ``SemanticRelationship``: how two tables join (foreign keys found by the scan, or declared by a person).
* ``SemanticMetric``: a named number (``expression`` over ``table`` with default ``filters``), written by people.
* ``SemanticTerm``: a business word and its definition.

The scan never deletes an entry and never overwrites what a person wrote: ``described_by`` says who wrote the
description (``human`` ones are left alone), and ``state`` records what the last scan saw (``present``,
``removed`` from the data source, or ``changed``: type, keys or columns differ, see ``state_detail``).
Metrics (and question→SQL memories) that a removal breaks carry the reason in ``flagged``.
"""

import uuid

from django.db import models
from django.db.models.functions import Lower

from .sources import default_roles

MAX_NAME_CHARS = 200
MAX_FLAG_CHARS = 200


class DescribedBy(models.TextChoices):
    NOBODY = "", "No description"
    SYNC = "sync", "The schema scan"
    HUMAN = "human", "A person"


class DriftState(models.TextChoices):
    PRESENT = "present", "Present"
    REMOVED = "removed", "Removed from the data source"
    CHANGED = "changed", "Changed in the data source"


class Origin(models.TextChoices):
    SYNC = "sync", "Found by the schema scan"
    HUMAN = "human", "Declared by a person"


class _Entry(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    data_source = models.ForeignKey("agent.DataSource", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class _Described(_Entry):
    """An entry that people describe and that the scan keeps in step with the data source."""

    description = models.TextField(blank=True, default="")
    synonyms = models.JSONField(default=list, blank=True, help_text="Other words people use for it")
    described_by = models.CharField(max_length=8, choices=DescribedBy.choices, blank=True, default="")
    state = models.CharField(max_length=8, choices=DriftState.choices, default=DriftState.PRESENT)
    state_detail = models.CharField(max_length=500, blank=True, default="", help_text="What the last scan saw change")
    synced_at = models.DateTimeField(null=True, blank=True, help_text="When a scan last saw it")

    class Meta:
        abstract = True


class SemanticTable(_Described):
    name = models.CharField(
        max_length=MAX_NAME_CHARS, help_text="As the gate names it: schema.table outside the default schema"
    )
    kind = models.CharField(max_length=8, default="table", help_text="table or view")
    row_estimate = models.BigIntegerField(null=True, blank=True)
    visible_to = models.JSONField(default=default_roles, blank=True, help_text="Roles that may see the table")

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint("data_source", Lower("name"), name="agent_semantictable_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class SemanticColumn(_Described):
    table = models.ForeignKey(SemanticTable, on_delete=models.CASCADE, related_name="columns")
    name = models.CharField(max_length=MAX_NAME_CHARS)
    data_type = models.CharField(max_length=200, blank=True, default="")
    nullable = models.BooleanField(default=True)
    primary_key = models.BooleanField(default=False)
    sample_values = models.JSONField(
        default=list, blank=True, help_text="Distinct values of a low-cardinality column, most frequent first"
    )

    class Meta:
        ordering = ["table__name", "name", "id"]
        constraints = [
            models.UniqueConstraint("table", Lower("name"), name="agent_semanticcolumn_unique"),
        ]
        indexes = [models.Index(fields=["data_source", "state"], name="agent_semcol_source_state")]

    def __str__(self) -> str:
        return f"{self.table.name}.{self.name}"


class SemanticRelationship(_Entry):
    from_table = models.CharField(max_length=MAX_NAME_CHARS)
    from_columns = models.JSONField(default=list)
    to_table = models.CharField(max_length=MAX_NAME_CHARS)
    to_columns = models.JSONField(default=list)
    key = models.CharField(max_length=1000, editable=False, help_text="from_table(columns)->to_table(columns)")
    description = models.TextField(blank=True, default="")
    described_by = models.CharField(max_length=8, choices=DescribedBy.choices, blank=True, default="")
    origin = models.CharField(max_length=8, choices=Origin.choices, default=Origin.HUMAN)
    state = models.CharField(max_length=8, choices=DriftState.choices, default=DriftState.PRESENT)
    state_detail = models.CharField(max_length=500, blank=True, default="")
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["from_table", "to_table", "id"]
        constraints = [
            models.UniqueConstraint("data_source", Lower("key"), name="agent_semanticrel_unique"),
        ]

    def __str__(self) -> str:
        return self.key


class SemanticMetric(_Entry):
    name = models.CharField(max_length=MAX_NAME_CHARS)
    description = models.TextField(blank=True, default="")
    synonyms = models.JSONField(default=list, blank=True)
    expression = models.TextField(help_text="An SQL aggregate over the base table, e.g. SUM(total)")
    table = models.CharField(max_length=MAX_NAME_CHARS, help_text="The base table")
    filters = models.JSONField(default=list, blank=True, help_text="SQL conditions always applied (AND)")
    flagged = models.CharField(
        max_length=MAX_FLAG_CHARS, blank=True, default="", help_text="Why it may no longer be right (schema drift)"
    )

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint("data_source", Lower("name"), name="agent_semanticmetric_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class SemanticTerm(_Entry):
    term = models.CharField(max_length=MAX_NAME_CHARS)
    definition = models.TextField()
    synonyms = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["term", "id"]
        constraints = [
            models.UniqueConstraint("data_source", Lower("term"), name="agent_semanticterm_unique"),
        ]

    def __str__(self) -> str:
        return self.term
