"""A held-out set for retrieval (issue 15 "Done when", issue 16 "Memory"): paraphrases of the demo's saved
questions (``agent.knowledge.demo_questions``), written the way other people would ask them (other words, other
order, casual or terse forms), each naming the saved question it means; and questions the demo's saved
questions cannot answer (small talk, HR policy, data the demo does not hold, near-misses on its tables).

Used by ``agent/tests/knowledge/test_paraphrases.py`` (the goals) and ``bench/offline_retrieval.py`` (the
figures in BENCHMARKS.md). Do not tune retrieval by copying these words into the saved questions.
"""

BY_QUESTION: dict[str, tuple[str, ...]] = {
    "How many customers do we have?": (
        "What's the total number of clients?",
        "count of all customers",
        "Tell me how big our customer base is in number of customers",
        "number of buyers in the system",
    ),
    "How many customers are there in each country?": (
        "Break down customers by country",
        "Which countries are our clients from, and how many per country?",
        "customer count per nation",
        "Where do our customers come from?",
    ),
    "Which customers have no email address?": (
        "List clients missing an e-mail",
        "Customers without an email on file",
        "Who among our buyers lacks a contact email?",
    ),
    "How many new customers signed up each month?": (
        "Monthly count of customer sign-ups",
        "How many clients joined per month?",
        "new customer registrations month by month",
        "Number of customers acquired every month",
    ),
    "Who are the top 10 customers by total spend?": (
        "Which clients have spent the most money with us?",
        "biggest spenders among our customers",
        "Top customers ranked by amount spent",
        "Show the ten buyers with the highest lifetime value",
    ),
    "Which customers placed the most orders?": (
        "Who orders most often?",
        "Customers with the highest number of orders",
        "Rank clients by how many purchases they made",
        "which buyers have made the most purchases",
    ),
    "Which countries bring in the most revenue?": (
        "Sales by country, highest first",
        "Which nations generate the biggest turnover?",
        "revenue per customer country",
        "In which markets do we earn the most?",
    ),
    "How many products are in each category?": (
        "Number of products per category",
        "How many items do we sell in every product type?",
        "category breakdown of the product catalog",
    ),
    "What are the 10 most expensive products?": (
        "Show me our priciest items",
        "Which products cost the most?",
        "top ten products by price",
        "highest priced goods in the catalogue",
    ),
    "What is the average product price in each category?": (
        "Mean price per product category",
        "How much does a product cost on average, by category?",
        "average cost of goods in every category",
    ),
    "Which products sell the most units?": (
        "What are our best-selling products?",
        "Top products by quantity sold",
        "Which items are the most popular by units?",
        "most sold products by volume",
    ),
    "What is the revenue of each product category?": (
        "Sales by product category",
        "How much money does each category of products make?",
        "Which product categories generate the most turnover?",
        "category-level revenue breakdown",
    ),
    "How many employees work in each department?": (
        "Headcount by department",
        "How many staff does each team have?",
        "number of workers per division",
        "department sizes in terms of employees",
    ),
    "What is the average salary by department?": (
        "Mean pay per department",
        "What does an employee earn on average in each team?",
        "average wages by division",
        "Which department pays the most on average?",
    ),
    "Which employees earn the highest salaries?": (
        "Who are our best paid employees?",
        "Top salaries among staff",
        "Which workers have the biggest pay?",
        "highest-paid people on the payroll",
    ),
    "How many employees were hired each year?": (
        "Number of hires per year",
        "How many staff did we recruit annually?",
        "yearly hiring numbers",
        "employees by year they joined the company",
    ),
    "Which salespeople handled the most orders?": (
        "Which sales reps processed the most orders?",
        "Best performing sales representatives by order count",
        "Rank salespeople by number of orders they took",
    ),
    "How many orders are there?": (
        "What is the total number of orders?",
        "count all orders",
        "How many purchases have been made in total?",
    ),
    "How many orders are in each status?": (
        "Orders broken down by status",
        "How many orders are pending, shipped, delivered or cancelled?",
        "order count per state",
        "distribution of order statuses",
    ),
    "How many orders were cancelled?": (
        "Number of cancelled orders",
        "How many purchases got canceled?",
        "count of orders with status cancelled",
        "total cancellations",
    ),
    "Which orders are still pending?": (
        "Show open orders",
        "Orders that have not been shipped yet",
        "list the pending purchases",
        "Which orders are outstanding right now?",
    ),
    "How many orders were placed online without a salesperson?": (
        "How many web orders did we get?",
        "Number of orders with no sales rep assigned",
        "count of online purchases",
    ),
    "What is our total revenue?": (
        "How much money have we made in total?",
        "Total sales across all orders",
        "What's our overall turnover?",
        "sum of revenue",
    ),
    "What is the revenue for each month?": (
        "Monthly revenue",
        "Sales per month",
        "How much did we sell each month?",
        "revenue trend month by month",
    ),
    "What was the revenue in each year?": (
        "Annual revenue",
        "Yearly sales totals",
        "How much revenue did we make per year?",
    ),
    "How many orders were placed each month?": (
        "Monthly order count",
        "Number of orders per month",
        "How many purchases did we get every month?",
        "order volume month by month",
    ),
    "What is the average order value?": (
        "What does a typical order come to?",
        "Mean order total",
        "average basket size in money",
        "How much is the average order worth?",
    ),
    "What is the largest order ever placed?": (
        "Biggest single order",
        "Which order had the highest total?",
        "What's the most expensive order we've received?",
    ),
    "How many items does an average order contain?": (
        "Average number of items per order",
        "How many units are in a typical order?",
        "mean quantity of items in an order",
    ),
    "Which day of the week has the most orders?": (
        "On which weekday do we get the most orders?",
        "Orders by day of the week",
        "busiest day of the week for orders",
    ),
    "What share of orders is cancelled each month?": (
        "Monthly cancellation rate",
        "Percentage of orders cancelled per month",
        "What proportion of orders gets canceled month by month?",
    ),
    "What are the 20 most recent orders?": (
        "Show the latest orders",
        "newest orders first",
        "What were the last orders we received?",
    ),
}

PARAPHRASES: tuple[tuple[str, str], ...] = tuple(
    (paraphrase, saved) for saved, paraphrases in BY_QUESTION.items() for paraphrase in paraphrases
)

UNRELATED: tuple[str, ...] = (
    # small talk and general knowledge
    "What's the weather like in Riyadh today?",
    "Will it rain tomorrow?",
    "Who won the football world cup in 2022?",
    "Write me a poem about the sea",
    "What is the capital of Australia?",
    "Translate 'good morning' into French",
    "Tell me a joke",
    "What is your name?",
    "How do I reset my password?",
    "What is the meaning of life?",
    "Convert 100 dollars to euros",
    "What time is it in Tokyo?",
    "Explain how photosynthesis works",
    "Recommend a good book about history",
    # HR and company policy
    "What is the vacation policy?",
    "How many days of sick leave do I get?",
    "When is the next public holiday?",
    "What is the dress code at the office?",
    "How do I submit an expense report?",
    "Who do I contact about my pension plan?",
    "Can I work from home on Fridays?",
    "What are the steps for a performance review?",
    # data the demo does not hold
    "Which suppliers deliver our coffee beans?",
    "How many products are out of stock in the warehouse?",
    "What is our profit margin after taxes?",
    "How many visitors came to the website yesterday?",
    "What is the average shipping time by carrier?",
    "How many returns and refunds were processed?",
    "Which marketing campaign had the best click-through rate?",
    "What is the customer satisfaction score?",
    "What are the product ratings in reviews?",
    "How much did we spend on advertising?",
    "What is the current stock price of the company?",
    "Which discount coupons were redeemed?",
    "What are the opening hours of our stores?",
    "How much inventory is left in each warehouse?",
    # near-misses on the demo's tables
    "What is the average age of our customers?",
    "Which customers have a phone number?",
    "How many employees are on maternity leave?",
    "What is each employee's job title and manager?",
    "How many vacation days has each employee taken?",
    "Which products are vegan or gluten free?",
    "What color options does each product come in?",
    "How many orders were paid by credit card?",
    "Which orders used express delivery?",
    "What is the tracking number of the latest shipment?",
    "How many customers unsubscribed from the newsletter?",
    "What is the gender split of our employees?",
    "Which products have a warranty longer than two years?",
    "How many support tickets did customers open?",
)

# Written after retrieval was tuned on the sets above and never tuned on: how it does on questions it has not
# seen (BENCHMARKS.md reports both sets).
FRESH_BY_QUESTION: dict[str, tuple[str, ...]] = {
    "How many customers do we have?": ("customer total count", "how many people buy from us?"),
    "How many customers are there in each country?": (
        "customers grouped by country",
        "country by country, how many clients?",
    ),
    "Which customers have no email address?": ("which buyers never gave us an email?",),
    "How many new customers signed up each month?": ("customer growth per month: new sign ups",),
    "Who are the top 10 customers by total spend?": ("our most valuable customers by spend", "who spent the most?"),
    "Which customers placed the most orders?": ("customers ranked by order count",),
    "Which countries bring in the most revenue?": ("top countries by sales", "revenue split by country"),
    "How many products are in each category?": ("how many products does each category have?",),
    "What are the 10 most expensive products?": ("most costly products in the catalog",),
    "What is the average product price in each category?": ("average price of products per category",),
    "Which products sell the most units?": ("products with the most units sold", "which products sell best?"),
    "What is the revenue of each product category?": ("revenue split by product category",),
    "How many employees work in each department?": ("employees per department", "staff numbers by department"),
    "What is the average salary by department?": ("average pay in each department",),
    "Which employees earn the highest salaries?": ("which staff members earn the most?",),
    "How many employees were hired each year?": ("hires by year",),
    "Which salespeople handled the most orders?": ("top salespeople by number of orders",),
    "How many orders are there?": ("total order count", "how many orders do we have?"),
    "How many orders are in each status?": ("count of orders by status",),
    "How many orders were cancelled?": ("what number of orders ended up being called off?",),
    "Which orders are still pending?": ("pending orders", "orders waiting to ship"),
    "How many orders were placed online without a salesperson?": ("orders placed through the website",),
    "What is our total revenue?": ("total sales to date", "how much revenue have we made?"),
    "What is the revenue for each month?": ("revenue by month",),
    "What was the revenue in each year?": ("revenue by year", "sales per year"),
    "How many orders were placed each month?": ("orders per month",),
    "What is the average order value?": ("average value of an order",),
    "What is the largest order ever placed?": ("the single biggest order by value",),
    "How many items does an average order contain?": ("average quantity per order",),
    "Which day of the week has the most orders?": ("which weekday is busiest?",),
    "What share of orders is cancelled each month?": ("cancellation percentage by month",),
    "What are the 20 most recent orders?": ("most recent orders", "latest 20 orders"),
}

FRESH_UNRELATED: tuple[str, ...] = (
    "What's the forecast for the weekend?",
    "How do I book a meeting room?",
    "Who is the CEO of the company?",
    "What is the parental leave policy?",
    "How many calories are in a banana?",
    "Which employees have completed security training?",
    "How many customers follow us on social media?",
    "What is the refund policy for damaged goods?",
    "Which suppliers are late with deliveries?",
    "How many bugs were fixed last sprint?",
    "What is our carbon footprint?",
    "How many trucks are in the delivery fleet?",
    "Which products need to be reordered from the supplier?",
    "What is the interest rate on our loan?",
    "How many job applicants did we interview?",
    "Summarise the last board meeting",
    "What's the wifi password?",
    "How many hours of overtime did the staff work?",
    "Which customers left a one-star review?",
    "What is the exchange rate between dollars and riyals?",
)

FRESH_PARAPHRASES: tuple[tuple[str, str], ...] = tuple(
    (paraphrase, saved) for saved, paraphrases in FRESH_BY_QUESTION.items() for paraphrase in paraphrases
)
