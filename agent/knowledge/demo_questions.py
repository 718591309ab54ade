"""The demo's saved questions: question → SQL pairs over the demo data source (``agent.demo``; SQLite), saved
by ``manage.py seed_demo`` as approved global memories so that offline mode answers out of the box.

Each question is asked the way a person would ask it; each SQL reads only the demo's five tables, returns rows
on the demo data, and leaves cancelled orders out of money figures. ``agent/tests/knowledge/paraphrases.py``
holds the held-out paraphrases that retrieval is measured on; they name these questions by their text.
"""

DEMO_QUESTIONS: tuple[tuple[str, str], ...] = (
    # customers
    ("How many customers do we have?", "SELECT COUNT(*) AS customers FROM customers"),
    (
        "How many customers are there in each country?",
        "SELECT country, COUNT(*) AS customers FROM customers GROUP BY country ORDER BY customers DESC, country",
    ),
    (
        "Which customers have no email address?",
        "SELECT id, name, country FROM customers WHERE email IS NULL ORDER BY name",
    ),
    (
        "How many new customers signed up each month?",
        "SELECT strftime('%Y-%m', created_at) AS month, COUNT(*) AS new_customers FROM customers "
        "GROUP BY month ORDER BY month",
    ),
    (
        "Who are the top 10 customers by total spend?",
        "SELECT c.name, c.country, ROUND(SUM(o.total), 2) AS spent FROM customers c "
        "JOIN orders o ON o.customer_id = c.id WHERE o.status <> 'cancelled' "
        "GROUP BY c.id, c.name, c.country ORDER BY spent DESC LIMIT 10",
    ),
    (
        "Which customers placed the most orders?",
        "SELECT c.name, c.country, COUNT(*) AS orders FROM customers c JOIN orders o ON o.customer_id = c.id "
        "GROUP BY c.id, c.name, c.country ORDER BY orders DESC, c.name LIMIT 10",
    ),
    (
        "Which countries bring in the most revenue?",
        "SELECT c.country, ROUND(SUM(o.total), 2) AS revenue FROM orders o JOIN customers c ON c.id = o.customer_id "
        "WHERE o.status <> 'cancelled' GROUP BY c.country ORDER BY revenue DESC",
    ),
    # products
    (
        "How many products are in each category?",
        "SELECT category, COUNT(*) AS products FROM products GROUP BY category ORDER BY products DESC, category",
    ),
    (
        "What are the 10 most expensive products?",
        "SELECT name, category, price FROM products ORDER BY price DESC, name LIMIT 10",
    ),
    (
        "What is the average product price in each category?",
        "SELECT category, ROUND(AVG(price), 2) AS average_price FROM products GROUP BY category "
        "ORDER BY average_price DESC",
    ),
    (
        "Which products sell the most units?",
        "SELECT p.name, p.category, SUM(oi.quantity) AS units FROM order_items oi "
        "JOIN products p ON p.id = oi.product_id JOIN orders o ON o.id = oi.order_id "
        "WHERE o.status <> 'cancelled' GROUP BY p.id, p.name, p.category ORDER BY units DESC LIMIT 10",
    ),
    (
        "What is the revenue of each product category?",
        "SELECT p.category, ROUND(SUM(oi.quantity * oi.price), 2) AS revenue FROM order_items oi "
        "JOIN products p ON p.id = oi.product_id JOIN orders o ON o.id = oi.order_id "
        "WHERE o.status <> 'cancelled' GROUP BY p.category ORDER BY revenue DESC",
    ),
    # employees
    (
        "How many employees work in each department?",
        "SELECT department, COUNT(*) AS employees FROM employees GROUP BY department ORDER BY employees DESC",
    ),
    (
        "What is the average salary by department?",
        "SELECT department, ROUND(AVG(salary), 2) AS average_salary FROM employees GROUP BY department "
        "ORDER BY average_salary DESC",
    ),
    (
        "Which employees earn the highest salaries?",
        "SELECT name, department, salary FROM employees ORDER BY salary DESC, name LIMIT 10",
    ),
    (
        "How many employees were hired each year?",
        "SELECT strftime('%Y', hired_at) AS year, COUNT(*) AS hired FROM employees GROUP BY year ORDER BY year",
    ),
    (
        "Which salespeople handled the most orders?",
        "SELECT e.name, COUNT(*) AS orders, ROUND(SUM(o.total), 2) AS revenue FROM orders o "
        "JOIN employees e ON e.id = o.employee_id WHERE o.status <> 'cancelled' "
        "GROUP BY e.id, e.name ORDER BY orders DESC LIMIT 10",
    ),
    # orders
    ("How many orders are there?", "SELECT COUNT(*) AS orders FROM orders"),
    (
        "How many orders are in each status?",
        "SELECT status, COUNT(*) AS orders FROM orders GROUP BY status ORDER BY orders DESC",
    ),
    ("How many orders were cancelled?", "SELECT COUNT(*) AS cancelled_orders FROM orders WHERE status = 'cancelled'"),
    (
        "Which orders are still pending?",
        "SELECT o.id, c.name AS customer, o.total, o.ordered_at FROM orders o "
        "JOIN customers c ON c.id = o.customer_id WHERE o.status = 'pending' ORDER BY o.ordered_at",
    ),
    (
        "How many orders were placed online without a salesperson?",
        "SELECT COUNT(*) AS online_orders FROM orders WHERE employee_id IS NULL",
    ),
    (
        "What is our total revenue?",
        "SELECT ROUND(SUM(total), 2) AS revenue FROM orders WHERE status <> 'cancelled'",
    ),
    (
        "What is the revenue for each month?",
        "SELECT strftime('%Y-%m', ordered_at) AS month, ROUND(SUM(total), 2) AS revenue FROM orders "
        "WHERE status <> 'cancelled' GROUP BY month ORDER BY month",
    ),
    (
        "What was the revenue in each year?",
        "SELECT strftime('%Y', ordered_at) AS year, ROUND(SUM(total), 2) AS revenue FROM orders "
        "WHERE status <> 'cancelled' GROUP BY year ORDER BY year",
    ),
    (
        "How many orders were placed each month?",
        "SELECT strftime('%Y-%m', ordered_at) AS month, COUNT(*) AS orders FROM orders GROUP BY month ORDER BY month",
    ),
    (
        "What is the average order value?",
        "SELECT ROUND(AVG(total), 2) AS average_order_value FROM orders WHERE status <> 'cancelled'",
    ),
    (
        "What is the largest order ever placed?",
        "SELECT o.id, c.name AS customer, o.total, o.ordered_at FROM orders o "
        "JOIN customers c ON c.id = o.customer_id ORDER BY o.total DESC LIMIT 1",
    ),
    (
        "How many items does an average order contain?",
        "SELECT ROUND(AVG(units), 2) AS average_items FROM "
        "(SELECT order_id, SUM(quantity) AS units FROM order_items GROUP BY order_id) AS per_order",
    ),
    (
        "Which day of the week has the most orders?",
        "SELECT CASE strftime('%w', ordered_at) WHEN '0' THEN 'Sunday' WHEN '1' THEN 'Monday' "
        "WHEN '2' THEN 'Tuesday' WHEN '3' THEN 'Wednesday' WHEN '4' THEN 'Thursday' WHEN '5' THEN 'Friday' "
        "ELSE 'Saturday' END AS weekday, COUNT(*) AS orders FROM orders "
        "GROUP BY strftime('%w', ordered_at) ORDER BY orders DESC",
    ),
    (
        "What share of orders is cancelled each month?",
        "SELECT strftime('%Y-%m', ordered_at) AS month, "
        "ROUND(100.0 * SUM(CASE WHEN status = 'cancelled' THEN 1 ELSE 0 END) / COUNT(*), 1) AS cancelled_percent "
        "FROM orders GROUP BY month ORDER BY month",
    ),
    (
        "What are the 20 most recent orders?",
        "SELECT o.id, c.name AS customer, o.status, o.total, o.ordered_at FROM orders o "
        "JOIN customers c ON c.id = o.customer_id ORDER BY o.ordered_at DESC LIMIT 20",
    ),
)


def demo_questions_save(*, source, by: str) -> tuple[int, int]:
    """Save the demo's questions as approved global ``question_sql`` memories of ``source`` (idempotent: a
    question already saved for ``source``, whatever its status now, is left as it is, so a retired or edited
    one stays so). Returns ``(created, already_there)``; audited as one ``memory.import``."""
    from django.db import transaction

    from agent.models import Memory, MemoryKind, MemoryScope, MemoryStatus
    from majed_vanna.audit import audit_record

    with transaction.atomic():
        existing = set(
            Memory.objects.filter(
                data_source=source, kind=MemoryKind.QUESTION_SQL, scope=MemoryScope.GLOBAL
            ).values_list("question", flat=True)
        )
        new = [
            Memory(
                kind=MemoryKind.QUESTION_SQL,
                question=question,
                sql=sql,
                data_source=source,
                scope=MemoryScope.GLOBAL,
                status=MemoryStatus.APPROVED,
                created_by=by,
                tags=["demo"],
            )
            for question, sql in DEMO_QUESTIONS
            if question not in existing
        ]
        Memory.objects.bulk_create(new)
        if new:
            audit_record(
                action="memory.import",
                actor_name=by,
                actor_id="",
                resource="data_source",
                resource_id=source.pk,
                details={"data_source": source.name, "kind": MemoryKind.QUESTION_SQL, "created": len(new)},
            )
    return len(new), len(DEMO_QUESTIONS) - len(new)
