"""The model: clients of the OpenAI protocol (chat completions, Responses) and their server dialects, token counts,
prices and spending limits, and local engines (started, shared, the packaged model)."""
