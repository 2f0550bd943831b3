"""One run: its settings, its parts wired together, the red → green loop, candidates and the escalation ladder,
what becomes of the change, and what the run reports (events, its record, its typed summary)."""
