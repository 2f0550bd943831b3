"""The `makegreen` command (app.py); the only place that turns failures into messages and exit codes
(boundary.py). Nothing is imported here: `hook run` (agent/launch.py) uses the boundary without the CLI."""


def main() -> None:
    """The entry point, kept for `from agent.cli import main`: agent/launch.py does the work."""
    from ..launch import main as launch

    launch()
