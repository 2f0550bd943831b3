"""The folder listing is the architecture: agent/ holds the rooms, each room imports only the rooms below it, and
no module name is used twice (a search for a name lands in one file)."""
from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

AGENT = Path(__file__).resolve().parent.parent / "agent"
# bottom to top: a room imports from itself and the rooms before it, never from one after it
ROOMS = ["core", "honesty", "workspace", "models", "context", "run", "ui", "integrations", "cli"]
ENTRIES = {"__init__.py", "__main__.py", "launch.py"}  # the package, `python -m agent`, the console script
# `from agent.cli import main`, kept for tooling written against it, hands over to the entry point above the rooms
ALLOWED = {("agent.cli", "agent.launch")}


def module_name(path: Path, agent: Path = AGENT) -> str:
    parts = list(path.relative_to(agent.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, agent: Path = AGENT) -> set[str]:
    """The agent modules path imports, at any depth (inside functions and TYPE_CHECKING blocks too)."""
    here = module_name(path, agent)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    modules = {module_name(found, agent) for found in agent.rglob("*.py")}
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
            found |= {base} | {f"{base}.{alias.name}" for alias in node.names}
    return {name for name in found if name in modules and name != here}


def room(module: str) -> int | None:
    """The room's place in ROOMS; None for the package and its entry points (above and below every room)."""
    parts = module.split(".")
    return ROOMS.index(parts[1]) if len(parts) > 1 and parts[1] in ROOMS else None


def test_agent_holds_only_rooms_and_entry_points():
    entries = {path.name for path in AGENT.iterdir() if path.name != "__pycache__"}
    assert entries == set(ROOMS) | ENTRIES
    for name in ROOMS:
        assert (AGENT / name / "__init__.py").read_text().startswith('"""'), f"{name}/ says what it holds"


def test_each_room_imports_only_rooms_below_it():
    upward = []
    for path in sorted(AGENT.rglob("*.py")):
        here = module_name(path)
        if room(here) is None:
            continue
        for target in sorted(imports(path)):
            there = room(target)
            if target == "agent.launch" or there is not None and there > room(here):
                if (here, target) not in ALLOWED:
                    upward.append(f"{here} imports {target}")
    assert upward == []


def test_the_check_sees_imports_inside_functions_and_whole_modules(tmp_path):
    agent = tmp_path / "agent"
    for name in ("core/__init__.py", "core/x.py", "run/__init__.py", "run/loop.py", "run/events.py"):
        (agent / name).parent.mkdir(parents=True, exist_ok=True)
        (agent / name).write_text("")
    (agent / "core" / "x.py").write_text("def f():\n    from ..run.loop import Round\n    from ..run import events\n")
    assert imports(agent / "core" / "x.py", agent) == {"agent.run", "agent.run.loop", "agent.run.events"}
    assert room("agent.run.loop") > room("agent.core.x")


def test_no_module_name_twice():
    names = Counter(path.name for path in AGENT.rglob("*.py") if path.name != "__init__.py")
    assert [name for name, count in names.items() if count > 1] == []


def test_a_function_of_more_than_five_parameters_takes_them_by_keyword():
    positional = []
    for path in sorted(AGENT.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names = [arg.arg for arg in node.args.posonlyargs + node.args.args if arg.arg not in ("self", "cls")]
                if len(names) > 5:
                    positional.append(f"{module_name(path)}.{node.name}({', '.join(names)})")
    assert positional == []


def test_modules_named_outside_python_files_exist():
    """.ci/run, the workflows, the docs and pyproject's entry point name modules by their dotted paths: a move
    that misses one breaks CI or a user's install, not an import this suite makes."""
    import re

    root = AGENT.parent
    modules = {module_name(path) for path in AGENT.rglob("*.py")}
    named = []
    places = [root / ".ci" / "run", root / "pyproject.toml", root / "action.yml", *root.glob("*.md"),
              *(root / "docs").glob("*.md"), *(root / "examples").rglob("*.yml")]
    for place in places:
        for found in re.finditer(r"\b(agent(?:\.\w+)+)(?=\s+import\b|:\w)", place.read_text(encoding="utf-8")):
            named.append((place.name, found.group(1)))
    assert named, "the check reads the places that name modules"
    assert [(place, name) for place, name in named if name not in modules] == []
