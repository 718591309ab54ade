"""Legitimate analytic queries the SQL gate must accept (issue 14: "the gate is strict, not crude").

Format: ``BENIGN`` is a list of ``Benign(name, sql, dialects)`` against the contract's demo schema
(``customers, products, employees, orders, order_items``; contract §5 "Agent"):

- ``name``: a short unique label (use it as the pytest id);
- ``sql``: one statement, written the way an analyst or a model would write it;
- ``dialects``: the gate dialects it is written for: ``("postgres", "sqlite")`` for portable SQL, one of them
  for a dialect's own date functions or syntax.

``agent/tests/sql/test_gate.py`` checks that the gate accepts every entry for each of its dialects; the runners'
tests run them on both engines for correct rows. Queries avoid the current date and time so that their rows
depend only on the demo data.
"""

from dataclasses import dataclass

BOTH = ("postgres", "sqlite")
PG = ("postgres",)
LITE = ("sqlite",)


@dataclass(frozen=True)
class Benign:
    name: str
    sql: str
    dialects: tuple[str, ...] = BOTH


BENIGN: list[Benign] = [
    Benign("count_orders", "SELECT count(*) FROM orders"),
    Benign(
        "orders_by_status",
        "SELECT status, count(*) AS n, sum(total) AS revenue FROM orders GROUP BY status ORDER BY n DESC, status",
    ),
    Benign(
        "revenue_by_country",
        "SELECT c.country, count(DISTINCT o.customer_id) AS buyers, round(sum(o.total), 2) AS revenue "
        "FROM orders o JOIN customers c ON c.id = o.customer_id "
        "WHERE o.status <> 'cancelled' GROUP BY c.country HAVING count(*) > 10 "
        "ORDER BY revenue DESC, c.country LIMIT 10",
    ),
    Benign(
        "sales_by_category",
        "SELECT p.category, sum(oi.quantity * oi.price) AS sales FROM order_items oi "
        "JOIN products p ON p.id = oi.product_id GROUP BY p.category ORDER BY sales DESC, p.category",
    ),
    Benign(
        "orders_per_employee",
        "SELECT e.name, e.department, count(o.id) AS orders_handled FROM employees e "
        "LEFT JOIN orders o ON o.employee_id = e.id GROUP BY e.id, e.name, e.department "
        "ORDER BY orders_handled DESC, e.name, e.id",
    ),
    Benign(
        "salary_rank_window",
        "SELECT name, department, salary, rank() OVER (PARTITION BY department ORDER BY salary DESC) AS salary_rank "
        "FROM employees ORDER BY department, salary_rank, id",
    ),
    Benign(
        "running_total_window",
        "SELECT id, ordered_at, total, sum(total) OVER (ORDER BY ordered_at, id "
        "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running_total "
        "FROM orders ORDER BY ordered_at, id LIMIT 50",
    ),
    Benign(
        "previous_order_lag",
        "SELECT customer_id, id, total, lag(total) OVER (PARTITION BY customer_id ORDER BY ordered_at, id) "
        "AS previous_total FROM orders ORDER BY customer_id, ordered_at, id LIMIT 100",
    ),
    Benign(
        "top_customers_cte",
        "WITH customer_totals AS (SELECT customer_id, sum(total) AS spent FROM orders "
        "WHERE status IN ('shipped', 'delivered') GROUP BY customer_id) "
        "SELECT c.name, ct.spent FROM customer_totals ct JOIN customers c ON c.id = ct.customer_id "
        "ORDER BY ct.spent DESC, c.id LIMIT 5",
    ),
    Benign(
        "chained_ctes",
        "WITH per_customer AS (SELECT customer_id, count(*) AS n FROM orders GROUP BY customer_id), "
        "buckets AS (SELECT CASE WHEN n >= 10 THEN 'loyal' WHEN n >= 3 THEN 'regular' ELSE 'occasional' END AS segment "
        "FROM per_customer) SELECT segment, count(*) AS customers FROM buckets GROUP BY segment ORDER BY segment",
    ),
    Benign(
        "union_names",
        "SELECT 'customer' AS kind, name FROM customers WHERE name LIKE 'A%' "
        "UNION SELECT 'employee', name FROM employees WHERE name LIKE 'A%' ORDER BY 2, 1",
    ),
    Benign(
        "union_all_counts",
        "SELECT 'customers' AS t, count(*) AS n FROM customers UNION ALL SELECT 'products', count(*) FROM products "
        "UNION ALL SELECT 'orders', count(*) FROM orders",
    ),
    Benign(
        "intersect_customers",
        "SELECT customer_id FROM orders WHERE status = 'delivered' "
        "INTERSECT SELECT customer_id FROM orders WHERE status = 'cancelled' ORDER BY 1",
    ),
    Benign(
        "except_never_ordered",
        "SELECT id FROM customers EXCEPT SELECT customer_id FROM orders ORDER BY 1",
    ),
    Benign(
        "like_drop",
        "SELECT id, name FROM products WHERE lower(name) LIKE '%drop%' OR lower(category) LIKE '%delete%' ORDER BY id",
    ),
    Benign(
        "literal_with_delete",
        "SELECT count(*) FROM customers WHERE name = 'x''; DELETE FROM customers; --'",
    ),
    Benign(
        "literal_with_comment_markers",
        "SELECT '/* not a comment */ -- nor this; DROP TABLE orders' AS s, count(*) AS n FROM orders",
    ),
    Benign(
        "case_sizes",
        "SELECT id, CASE WHEN total >= 500 THEN 'large' WHEN total >= 100 THEN 'medium' ELSE 'small' END AS size "
        "FROM orders ORDER BY id LIMIT 20",
    ),
    Benign(
        "coalesce_nullif",
        "SELECT id, coalesce(email, 'no email') AS email, nullif(country, '') AS country FROM customers "
        "ORDER BY id LIMIT 20",
    ),
    Benign(
        "scalar_subquery",
        "SELECT name, price FROM products WHERE price > (SELECT avg(price) FROM products) ORDER BY price DESC, id",
    ),
    Benign(
        "not_exists",
        "SELECT c.id, c.name FROM customers c WHERE NOT EXISTS "
        "(SELECT 1 FROM orders o WHERE o.customer_id = c.id) ORDER BY c.id",
    ),
    Benign(
        "in_subquery",
        "SELECT name FROM products WHERE id IN "
        "(SELECT product_id FROM order_items GROUP BY product_id HAVING sum(quantity) > 50) ORDER BY name",
    ),
    Benign(
        "between_is_null",
        "SELECT count(*) FROM orders WHERE total BETWEEN 100 AND 200 AND employee_id IS NOT NULL",
    ),
    Benign(
        "derived_table",
        "SELECT avg(n) AS orders_per_customer FROM "
        "(SELECT customer_id, count(*) AS n FROM orders GROUP BY customer_id) AS per_customer",
    ),
    Benign(
        "top_three_per_category",
        "WITH ranked AS (SELECT p.category, p.name, p.price, "
        "row_number() OVER (PARTITION BY p.category ORDER BY p.price DESC, p.id) AS rn FROM products p) "
        "SELECT category, name, price FROM ranked WHERE rn <= 3 ORDER BY category, rn",
    ),
    Benign(
        "string_functions",
        "SELECT upper(substr(name, 1, 3)) AS prefix, length(name) AS len, trim(name) AS trimmed, "
        "replace(name, ' ', '_') AS slug FROM customers ORDER BY id LIMIT 10",
    ),
    Benign(
        "concatenation",
        "SELECT name || ' <' || coalesce(email, '?') || '>' AS contact FROM customers ORDER BY id LIMIT 10",
    ),
    Benign(
        "casts",
        "SELECT CAST(total AS INTEGER) AS whole, CAST(orders.id AS TEXT) AS label, CAST(quantity AS REAL) / 2 AS half "
        "FROM orders JOIN order_items ON order_items.order_id = orders.id ORDER BY orders.id, order_items.id LIMIT 5",
    ),
    Benign("price_stats", "SELECT min(price), max(price), avg(price), count(DISTINCT category) FROM products"),
    Benign(
        "self_join",
        "SELECT a.name, b.name FROM employees a JOIN employees b ON a.department = b.department AND a.id < b.id "
        "ORDER BY a.id, b.id LIMIT 20",
    ),
    Benign(
        "bounded_recursive_cte",
        "WITH RECURSIVE months(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM months WHERE i < 12) "
        "SELECT i FROM months ORDER BY i",
    ),
    Benign(
        "conditional_aggregates",
        "SELECT sum(CASE WHEN status = 'cancelled' THEN 1 ELSE 0 END) AS cancelled, "
        "sum(CASE WHEN status = 'delivered' THEN total ELSE 0 END) AS delivered_revenue FROM orders",
    ),
    Benign(
        "ntile_dense_rank",
        "SELECT id, price, ntile(4) OVER (ORDER BY price, id) AS quartile, "
        "dense_rank() OVER (ORDER BY category) AS category_rank FROM products ORDER BY id",
    ),
    Benign(
        "quoted_identifiers",
        'SELECT "name", "country" FROM "customers" WHERE "country" IS NOT NULL ORDER BY "id" LIMIT 10',
    ),
    Benign(
        "comments_in_query",
        "SELECT count(*) /* orders of every status */ FROM orders -- including cancelled ones\n",
    ),
    Benign(
        "limit_offset_distinct",
        "SELECT DISTINCT country FROM customers WHERE country IS NOT NULL ORDER BY country LIMIT 10 OFFSET 2",
    ),
    Benign(
        "drop_table_in_literal",
        "SELECT count(*) FROM products WHERE name <> 'DROP TABLE customers' AND category NOT LIKE '%;%'",
    ),
    Benign(
        "average_basket",
        "SELECT o.id, count(oi.id) AS lines, sum(oi.quantity) AS items FROM orders o "
        "JOIN order_items oi ON oi.order_id = o.id GROUP BY o.id HAVING count(oi.id) > 3 "
        "ORDER BY items DESC, o.id LIMIT 10",
    ),
    Benign(
        "upper_case_keywords",
        "SELECT COUNT(*) AS N, MAX(Total) AS Biggest FROM Orders WHERE Status IN ('pending', 'shipped')",
    ),
    # SQLite date and time functions
    Benign(
        "sqlite_orders_per_month",
        "SELECT strftime('%Y-%m', ordered_at) AS month, count(*) AS n FROM orders GROUP BY month ORDER BY month",
        LITE,
    ),
    Benign(
        "sqlite_orders_since",
        "SELECT count(*) FROM orders WHERE date(ordered_at) >= date('2024-01-01') AND status = 'shipped'",
        LITE,
    ),
    Benign(
        "sqlite_days_to_first_order",
        "SELECT c.id, min(julianday(o.ordered_at) - julianday(c.created_at)) AS days FROM customers c "
        "JOIN orders o ON o.customer_id = c.id GROUP BY c.id ORDER BY c.id LIMIT 20",
        LITE,
    ),
    Benign(
        "sqlite_weekday_ifnull",
        "SELECT strftime('%w', ordered_at) AS weekday, ifnull(sum(total), 0) AS revenue, "
        "iif(count(*) > 100, 'busy', 'quiet') AS load FROM orders GROUP BY weekday ORDER BY weekday",
        LITE,
    ),
    Benign(
        "sqlite_main_schema",
        "SELECT count(*) FROM main.orders o JOIN main.customers c ON c.id = o.customer_id",
        LITE,
    ),
    # PostgreSQL date and time functions, casts and aggregate syntax
    Benign(
        "pg_orders_per_month",
        "SELECT date_trunc('month', ordered_at) AS month, count(*) AS n FROM orders GROUP BY 1 ORDER BY 1",
        PG,
    ),
    Benign(
        "pg_revenue_per_year",
        "SELECT extract(year FROM ordered_at) AS y, sum(total) AS revenue FROM orders GROUP BY 1 ORDER BY 1",
        PG,
    ),
    Benign(
        "pg_to_char_interval",
        "SELECT to_char(ordered_at, 'YYYY-MM') AS month, count(*) FROM orders "
        "WHERE ordered_at >= DATE '2024-01-01' + INTERVAL '1 month' GROUP BY 1 ORDER BY 1",
        PG,
    ),
    Benign(
        "pg_median_filter",
        "SELECT status, percentile_cont(0.5) WITHIN GROUP (ORDER BY total) AS median_total, "
        "count(*) FILTER (WHERE total > 100) AS big FROM orders GROUP BY status ORDER BY status",
        PG,
    ),
    Benign(
        "pg_cast_operator",
        "SELECT ordered_at::date AS day, sum(total)::numeric(12, 2) AS revenue FROM orders "
        "GROUP BY 1 ORDER BY 1 LIMIT 30",
        PG,
    ),
    Benign(
        "pg_public_schema",
        "SELECT count(*) FROM public.orders o JOIN public.customers c ON c.id = o.customer_id",
        PG,
    ),
    Benign(
        "pg_string_agg_ilike",
        "SELECT department, string_agg(name, ', ' ORDER BY name) AS people FROM employees "
        "WHERE name ILIKE '%a%' GROUP BY department ORDER BY department",
        PG,
    ),
    Benign(
        "pg_small_series",
        "SELECT m, count(o.id) FROM generate_series(1, 12) AS m "
        "LEFT JOIN orders o ON extract(month FROM o.ordered_at) = m GROUP BY m ORDER BY m",
        PG,
    ),
    Benign(
        "pg_distinct_on",
        "SELECT DISTINCT ON (customer_id) customer_id, id, total FROM orders ORDER BY customer_id, total DESC, id",
        PG,
    ),
    Benign(
        "pg_age_coalesce",
        "SELECT name, extract(year FROM age(DATE '2025-01-01', hired_at)) AS years FROM employees ORDER BY id",
        PG,
    ),
]
