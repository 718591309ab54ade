"""The demo evaluation set (issue 17): 55 questions about the demo data with reference SQL, worded independently of
the demo's saved questions; some of them no saved question answers (the offline answerer should miss those)."""

NAME = "demo: shop questions"
DESCRIPTION = "Questions a shop manager asks of the demo data, with the reference SQL a careful analyst wrote."

CASES: tuple[tuple[str, str], ...] = (
    ("How many customers do we have in total?", "SELECT count(*) FROM customers"),
    ("What is the number of products in the catalogue?", "SELECT count(*) FROM products"),
    ("How many people work for us?", "SELECT count(*) FROM employees"),
    ("Total number of orders ever placed?", "SELECT count(*) FROM orders"),
    ("How many order lines are recorded?", "SELECT count(*) FROM order_items"),
    ("What's our overall revenue from delivered orders?", "SELECT sum(total) FROM orders WHERE status = 'delivered'"),
    ("How many orders are still pending?", "SELECT count(*) FROM orders WHERE status = 'pending'"),
    ("Count the cancelled orders", "SELECT count(*) FROM orders WHERE status = 'cancelled'"),
    (
        "How many orders have been shipped but not delivered yet?",
        "SELECT count(*) FROM orders WHERE status = 'shipped'",
    ),
    ("Break down orders by status", "SELECT status, count(*) FROM orders GROUP BY status"),
    (
        "Which countries do our customers come from, and how many per country?",
        "SELECT country, count(*) FROM customers GROUP BY country",
    ),
    (
        "Which country has the most customers?",
        "SELECT country FROM customers GROUP BY country ORDER BY count(*) DESC LIMIT 1",
    ),
    ("How many customers are based in Germany?", "SELECT count(*) FROM customers WHERE country = 'Germany'"),
    ("List the product categories", "SELECT DISTINCT category FROM products"),
    ("How many products does each category hold?", "SELECT category, count(*) FROM products GROUP BY category"),
    ("What is the average product price?", "SELECT avg(price) FROM products"),
    ("Name the most expensive product", "SELECT name FROM products ORDER BY price DESC LIMIT 1"),
    ("What is the cheapest item we sell and its price?", "SELECT name, price FROM products ORDER BY price ASC LIMIT 1"),
    ("Average price per category", "SELECT category, avg(price) FROM products GROUP BY category"),
    ("Headcount per department", "SELECT department, count(*) FROM employees GROUP BY department"),
    ("What does each department pay on average?", "SELECT department, avg(salary) FROM employees GROUP BY department"),
    ("Who is the best-paid employee?", "SELECT name FROM employees ORDER BY salary DESC LIMIT 1"),
    ("What is the total payroll?", "SELECT sum(salary) FROM employees"),
    ("How many engineers are on staff?", "SELECT count(*) FROM employees WHERE department = 'Engineering'"),
    ("Which employee joined first?", "SELECT name FROM employees ORDER BY hired_at ASC LIMIT 1"),
    ("What was the biggest single order value?", "SELECT max(total) FROM orders"),
    ("Mean value of an order", "SELECT avg(total) FROM orders"),
    (
        "Revenue per year from delivered orders",
        "SELECT strftime('%Y', ordered_at) AS year, sum(total) FROM orders WHERE status = 'delivered' GROUP BY year",
    ),
    ("How many orders were placed in 2024?", "SELECT count(*) FROM orders WHERE strftime('%Y', ordered_at) = '2024'"),
    (
        "Orders per month in 2023",
        "SELECT strftime('%m', ordered_at) AS month, count(*) FROM orders "
        "WHERE strftime('%Y', ordered_at) = '2023' GROUP BY month ORDER BY month",
    ),
    (
        "Which month of 2024 had the highest sales?",
        "SELECT strftime('%m', ordered_at) AS month FROM orders WHERE strftime('%Y', ordered_at) = '2024' "
        "AND status <> 'cancelled' GROUP BY month ORDER BY sum(total) DESC LIMIT 1",
    ),
    (
        "Top 5 customers by amount spent",
        "SELECT c.name, sum(o.total) AS spent FROM customers c JOIN orders o ON o.customer_id = c.id "
        "WHERE o.status <> 'cancelled' GROUP BY c.id, c.name ORDER BY spent DESC LIMIT 5",
    ),
    (
        "Which customer placed the most orders?",
        "SELECT c.name FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.id, c.name "
        "ORDER BY count(*) DESC, c.id LIMIT 1",
    ),
    (
        "How many customers have never ordered anything?",
        "SELECT count(*) FROM customers WHERE id NOT IN (SELECT customer_id FROM orders)",
    ),
    (
        "Sales by customer country",
        "SELECT c.country, sum(o.total) FROM orders o JOIN customers c ON c.id = o.customer_id "
        "WHERE o.status <> 'cancelled' GROUP BY c.country",
    ),
    (
        "Which product sold the most units?",
        "SELECT p.name FROM order_items i JOIN products p ON p.id = i.product_id GROUP BY p.id, p.name "
        "ORDER BY sum(i.quantity) DESC LIMIT 1",
    ),
    (
        "Units sold per category",
        "SELECT p.category, sum(i.quantity) FROM order_items i JOIN products p ON p.id = i.product_id "
        "GROUP BY p.category",
    ),
    (
        "Revenue per product category",
        "SELECT p.category, sum(i.quantity * i.price) FROM order_items i JOIN products p ON p.id = i.product_id "
        "GROUP BY p.category",
    ),
    (
        "How many items does an order contain on average?",
        "SELECT avg(n) FROM (SELECT order_id, sum(quantity) AS n FROM order_items GROUP BY order_id) t",
    ),
    (
        "Which employee handled the most orders?",
        "SELECT e.name FROM employees e JOIN orders o ON o.employee_id = e.id GROUP BY e.id, e.name "
        "ORDER BY count(*) DESC, e.id LIMIT 1",
    ),
    (
        "Orders handled per department",
        "SELECT e.department, count(*) FROM orders o JOIN employees e ON e.id = o.employee_id GROUP BY e.department",
    ),
    ("How many orders have no employee assigned?", "SELECT count(*) FROM orders WHERE employee_id IS NULL"),
    (
        "How many new customers signed up in 2023?",
        "SELECT count(*) FROM customers WHERE strftime('%Y', created_at) = '2023'",
    ),
    (
        "What share of orders were cancelled?",
        "SELECT 100.0 * sum(CASE WHEN status = 'cancelled' THEN 1 ELSE 0 END) / count(*) FROM orders",
    ),
    (
        "Show the ten most recent orders",
        "SELECT id, customer_id, status, total, ordered_at FROM orders ORDER BY ordered_at DESC, id DESC LIMIT 10",
    ),
    (
        "Which category brings in the most money?",
        "SELECT p.category FROM order_items i JOIN products p ON p.id = i.product_id GROUP BY p.category "
        "ORDER BY sum(i.quantity * i.price) DESC LIMIT 1",
    ),
    (
        "What is the total value of orders that are not yet delivered?",
        "SELECT sum(total) FROM orders WHERE status IN ('pending', 'shipped')",
    ),
    ("Average order value per status", "SELECT status, avg(total) FROM orders GROUP BY status"),
    (
        "How many distinct customers ordered in 2024?",
        "SELECT count(DISTINCT customer_id) FROM orders WHERE strftime('%Y', ordered_at) = '2024'",
    ),
    (
        "Largest order of a customer from Japan",
        "SELECT max(o.total) FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.country = 'Japan'",
    ),
    ("How many different products did customers buy in total?", "SELECT count(DISTINCT product_id) FROM order_items"),
    (
        "Department with the highest salary bill",
        "SELECT department FROM employees GROUP BY department ORDER BY sum(salary) DESC LIMIT 1",
    ),
    ("How many employees earn more than 60,000?", "SELECT count(*) FROM employees WHERE salary > 60000"),
    ("Which categories have products priced above 100?", "SELECT DISTINCT category FROM products WHERE price > 100"),
    (
        "Revenue from the Saudi Arabian market",
        "SELECT sum(o.total) FROM orders o JOIN customers c ON c.id = o.customer_id "
        "WHERE c.country = 'Saudi Arabia' AND o.status <> 'cancelled'",
    ),
)
