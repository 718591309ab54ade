"""Evaluation of the agent's answers against reference SQL (issue 17): comparison, runs, reports."""
