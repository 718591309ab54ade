"""The agent's engine: vanna 2.0.2's loop with our parts plugged in (``loop``), the ``run_sql`` tool (``tools``),
the prompt (``prompt``), the offline answerer (``offline``), charts, lineage and the events every transport
formats (``events``). ``agent.services.chat.chat_run`` is the one entry point."""
