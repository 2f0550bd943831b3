"""Source analysis behind a small interface (facts.py), so that other languages' grammars can be added beside
Python's: the analyzer for a file, by its language."""
from __future__ import annotations

from .facts import Analyzer
from .python_analysis import PythonAnalyzer


def analyzer_for(path: str) -> Analyzer | None:
    """The analyzer for a file by its name, or None for files no grammar here reads."""
    for analyzer in (PythonAnalyzer.shared(),):
        if path.endswith(analyzer.suffixes):
            return analyzer
    return None
