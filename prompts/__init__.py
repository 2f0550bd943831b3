"""Prompt templates, one file each; read with importlib.resources, rendered by agent.prompting."""
