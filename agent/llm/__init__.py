"""Async LLM services for vanna's agent loop (``vanna.core.llm.LlmService``): OpenAI-compatible and Anthropic."""
