"""What the SQL gate allows, per dialect: the function allow-lists, the cast types, the system catalogs.

Everything here is an allow-list: a function, a type or a relation that is not named here is refused, whatever its
name. Names are normalised the way ``agent.sql.gate`` normalises them: a function sqlglot does not know
(``exp.Anonymous``) is its name as written, lower-cased (PostgreSQL: as written when quoted, since a quoted name is
case-sensitive there); a function sqlglot knows (``exp.Sum``, ``exp.TimeToStr``...) is its sqlglot name, lower-cased
(``sum``, ``time_to_str``), because sqlglot maps several spellings to one node (``instr``/``strpos``/``position`` ->
``str_position``, ``string_agg``/``group_concat`` -> ``group_concat``) and regenerates the dialect's own spelling.
"""

from sqlglot import exp

DIALECTS = ("postgres", "sqlite")
ENGINE_DIALECTS = {"postgresql": "postgres", "postgres": "postgres", "sqlite": "sqlite"}


def dialect_for(name: str) -> str:
    """The gate's dialect for a data source engine (``postgresql`` -> ``postgres``) or a dialect name."""
    try:
        return ENGINE_DIALECTS[name.lower()]
    except (KeyError, AttributeError):
        raise ValueError(f"unknown SQL dialect {name!r}") from None


# sqlglot models some SQL syntax as function nodes: they are checked by the node allow-list of layer 1, not named
# as functions (``AND``, ``CASE``, ``CAST(x AS t)`` whose type is checked on its own, ``EXISTS (...)``...).
SYNTAX_FUNCTIONS: tuple[type[exp.Expression], ...] = (
    exp.And,
    exp.Or,
    exp.Case,
    exp.If,
    exp.Cast,
    exp.Exists,
    exp.Collate,
)

_AGGREGATES = {
    "count", "sum", "avg", "min", "max", "group_concat", "stddev", "stddev_samp", "stddev_pop", "variance",
    "variance_pop", "corr", "covar_pop", "covar_samp", "percentile_cont", "percentile_disc", "mode", "median",
    "logical_and", "logical_or",
}  # fmt: skip
_WINDOW = {
    "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead", "first_value",
    "last_value", "nth_value",
}  # fmt: skip
_MATH = {
    "abs", "round", "ceil", "floor", "trunc", "sign", "sqrt", "power", "exp", "ln", "log", "pi", "rand",
    "greatest", "least", "degrees", "radians", "sin", "cos", "tan", "asin", "acos", "atan", "atan2",
}  # fmt: skip
_STRING = {
    "lower", "upper", "length", "substring", "trim", "replace", "str_position", "concat", "concat_ws",
}  # fmt: skip
_CONDITIONAL = {"coalesce", "nullif"}
_DATES = {"current_date", "current_timestamp"}

_COMMON = _AGGREGATES | _WINDOW | _MATH | _STRING | _CONDITIONAL | _DATES

_POSTGRES = {
    # aggregates and arrays (unnest is "explode"; generate_series is bounded by GENERATE_SERIES_MAX_ROWS below)
    "every", "array_agg", "array", "array_size", "array_to_string", "cardinality", "string_to_array", "explode",
    "exploding_generate_series", "generate_series",
    # math
    "cbrt", "width_bucket", "gcd", "lcm", "scale", "num_nonnulls", "num_nulls",
    # strings (lpad and rpad are "pad"; their length, like repeat's count, is bounded by SIZE_ARGUMENTS below)
    "octet_length", "bit_length", "left", "right", "pad", "repeat", "reverse", "initcap", "split_part",
    "translate", "chr", "ascii", "md5", "hex", "starts_with", "regexp_replace", "regexp_like", "regexp_ilike",
    "regexp_match", "quote_ident", "quote_literal", "to_number",
    # date and time: date_trunc is "timestamp_trunc", to_char "time_to_str", to_date "str_to_date",
    # to_timestamp "str_to_time", make_timestamp "timestamp_from_parts"
    "timestamp_trunc", "date_trunc", "extract", "time_to_str", "str_to_date", "str_to_time", "age", "make_date",
    "timestamp_from_parts", "make_interval", "justify_days", "justify_hours", "justify_interval", "isfinite",
    "date_bin", "date", "localtimestamp",
    # JSON reads: ->, ->>, #>, #>> and the *_extract_path functions; json_agg is "j_s_o_n_array_agg"
    "json_extract", "json_extract_scalar", "jsonb_extract", "jsonb_extract_scalar", "jsonb_extract_path",
    "jsonb_extract_path_text", "json_array_length", "jsonb_array_length", "json_typeof", "jsonb_typeof",
    "to_json", "to_jsonb", "json_build_object", "jsonb_build_object", "json_build_array", "j_s_o_n_array_agg",
    "jsonb_agg", "j_s_o_n_object_agg", "row_to_json",
}  # fmt: skip
_SQLITE = {
    "total", "octet_length", "chr", "unicode", "hex", "quote", "typeof", "likely", "unlikely",
    # date and time: strftime is "time_to_str" or "strftime" depending on its arguments
    "date", "time", "datetime", "julianday", "strftime", "time_to_str", "unixepoch", "timediff",
    "ts_or_ds_to_timestamp",
    # JSON reads; json_object is "j_s_o_n_object", json_group_array "j_s_o_n_array_agg"
    "json", "json_extract", "json_extract_scalar", "json_array_length", "json_type", "json_valid",
    "j_s_o_n_object", "json_array", "j_s_o_n_array_agg", "j_s_o_n_object_agg",
}  # fmt: skip

ALLOWED_FUNCTIONS: dict[str, frozenset[str]] = {
    "postgres": frozenset(_COMMON | _POSTGRES),
    "sqlite": frozenset(_COMMON | _SQLITE),
}

# Schemas a function may be qualified with (PostgreSQL: pg_catalog.lower(x) is lower(x)). Any other qualifier
# names a function of some schema, which the allow-list cannot vouch for.
FUNCTION_SCHEMAS: dict[str, frozenset[str]] = {"postgres": frozenset({"pg_catalog"}), "sqlite": frozenset()}

# Resource rules the gate can decide from the statement alone. Functions whose output size is one of their
# arguments: that argument must be an integer literal no larger than MAX_GENERATED_SIZE. generate_series: integer
# bounds must be literals spanning at most GENERATE_SERIES_MAX_ROWS rows; a series over dates or timestamps with
# literal bounds is left to the runner's statement timeout and row cap (it is lazy under LIMIT, and its size needs
# calendar arithmetic to estimate); a series whose bounds are not literals is refused.
MAX_GENERATED_SIZE = 10_000
SIZE_ARGUMENTS: dict[str, str] = {"pad": "expression", "repeat": "times"}
GENERATE_SERIES = frozenset({"exploding_generate_series", "generate_series"})
GENERATE_SERIES_MAX_ROWS = 100_000

# Unquoted, unqualified names PostgreSQL reads as functions of the session rather than columns.
SESSION_KEYWORDS: dict[str, frozenset[str]] = {
    "postgres": frozenset(
        {"user", "current_user", "session_user", "current_role", "current_catalog", "current_schema", "system_user"}
    ),
    "sqlite": frozenset(),
}

# The types a CAST (or ``x::t``, ``DATE '...'``) may convert to. Casting runs a type's input function: a type
# outside this list (regclass, oid, pg_lsn, a user-defined type...) is refused.
_T = exp.DataType.Type
_TYPES = {
    _T.TINYINT, _T.SMALLINT, _T.INT, _T.BIGINT, _T.DECIMAL, _T.BIGDECIMAL, _T.FLOAT, _T.DOUBLE, _T.MONEY,
    _T.BOOLEAN, _T.CHAR, _T.NCHAR, _T.VARCHAR, _T.NVARCHAR, _T.BPCHAR, _T.TEXT,
    _T.DATE, _T.TIME, _T.TIMETZ, _T.TIMESTAMP, _T.TIMESTAMPTZ, _T.DATETIME, _T.INTERVAL,
    _T.JSON, _T.JSONB, _T.UUID, _T.BLOB, _T.ARRAY,
}  # fmt: skip
ALLOWED_TYPES: frozenset[exp.DataType.Type] = frozenset(_TYPES)

# Relations that describe the database rather than hold its data. PostgreSQL: every schema whose name starts
# with pg_ (pg_catalog, pg_toast, pg_temp_N...) and information_schema; an unqualified pg_* name resolves to
# pg_catalog first, so it is a catalog whatever else exists. SQLite: the sqlite_* tables (sqlite_master,
# sqlite_schema, sqlite_temp_master, sqlite_sequence, sqlite_stat1...), the pragma_* table-valued pragmas
# (pragma_database_list...) and the dbstat virtual table.
SYSTEM_SCHEMAS: dict[str, frozenset[str]] = {
    "postgres": frozenset({"information_schema"}),
    "sqlite": frozenset(),
}
SYSTEM_PREFIXES: dict[str, tuple[str, ...]] = {"postgres": ("pg_",), "sqlite": ("sqlite_", "pragma_")}
SYSTEM_TABLES: dict[str, frozenset[str]] = {"postgres": frozenset(), "sqlite": frozenset({"dbstat"})}

# The schema an unqualified table name lives in: "public.orders" and "orders" are one table.
DEFAULT_SCHEMAS: dict[str, frozenset[str]] = {"postgres": frozenset({"public"}), "sqlite": frozenset({"main"})}
