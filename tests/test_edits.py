import os

import pytest

from agent.workspace import edits as edits_module
from agent.workspace.edits import CutOff, SearchReplace, TestGuard, WholeFile, parse_edits
from agent.workspace.snapshot import Workspace
from tests.conftest import tree_bytes

FENCE = "`" * 3


def answer(*parts: str) -> str:
    return "\n".join(parts)


def test_whole_file_blocks_with_decorated_paths():
    text = answer(
        "I'll create two files.", "",
        "**pkg/a.py**", f"{FENCE}python", "A = 1", FENCE,
        "### `pkg/b.py`", f"{FENCE}python", "B = 2", "", FENCE,
        "File: c.txt", f"{FENCE}", "plain", FENCE,
    )
    assert parse_edits(text) == [WholeFile("pkg/a.py", "A = 1\n"), WholeFile("pkg/b.py", "B = 2\n\n"),
                                 WholeFile("c.txt", "plain\n")]


def test_path_in_the_fence_info_string_and_in_prose():
    text = answer(f"{FENCE}python pkg/a.py", "A = 1", FENCE, "Now create `pkg/b.py` with:", f"{FENCE}python",
                  "B = 2", FENCE)
    assert parse_edits(text) == [WholeFile("pkg/a.py", "A = 1\n"), WholeFile("pkg/b.py", "B = 2\n")]


def test_code_blocks_without_a_path_are_not_edits():
    text = answer("Run the tests with:", f"{FENCE}bash", "pytest -q", FENCE)
    assert parse_edits(text) == []


def test_search_replace_blocks_in_one_fence_and_outside_any_fence():
    text = answer(
        "mod.py", f"{FENCE}python",
        "<<<<<<< SEARCH", "def f():", "    return 0", "=======", "def f():", "    return 1", ">>>>>>> REPLACE",
        "<<<<<<< SEARCH", "X = 1", "=======", "X = 2", ">>>>>>> REPLACE",
        FENCE,
        "other.py",
        "<<<<<<< SEARCH", "=======", "NEW = True", ">>>>>>> REPLACE",
    )
    assert parse_edits(text) == [
        SearchReplace("mod.py", "def f():\n    return 0\n", "def f():\n    return 1\n", 1),
        SearchReplace("mod.py", "X = 1\n", "X = 2\n", 2),
        SearchReplace("other.py", "", "NEW = True\n", 3),
    ]


def test_a_longer_fence_can_hold_a_shorter_one():
    text = answer("README.md", "````markdown", "Use it:", FENCE, "x()", FENCE, "````")
    assert parse_edits(text) == [WholeFile("README.md", f"Use it:\n{FENCE}\nx()\n{FENCE}\n")]


@pytest.fixture
def repo(tmp_path):
    (tmp_path / "mod.py").write_text("def f():\n    return 0\n\n\nX = 1\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_mod.py").write_text("from mod import f\n")
    return tmp_path


guard = TestGuard({"tests/test_mod.py"})


def apply_edits(root, edits, protected):
    """The edits made against a snapshot of root, and what they wrote put into root (as the workspace would at
    the end), so that the tests below read the result on disk."""
    outcome = edits_module.apply_edits(Workspace(root), edits, protected)
    for path, content in outcome.written.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(content)
    return outcome


def test_edits_are_made_in_memory_and_nothing_is_written(repo):
    before = tree_bytes(repo)
    workspace = Workspace(repo)
    outcome = edits_module.apply_edits(workspace, [SearchReplace("mod.py", "X = 1\n", "X = 2\n", 1),
                                                   SearchReplace("mod.py", "X = 2\n", "X = 3\n", 2),
                                                   WholeFile("pkg/new.py", "N = 1\n")], guard)
    assert tree_bytes(repo) == before and workspace.changes() == {}  # edits read; the workspace writes
    assert outcome.changed == ["mod.py", "pkg/new.py"]  # the second block saw the first one's result
    assert outcome.written == {"mod.py": b"def f():\n    return 0\n\n\nX = 3\n", "pkg/new.py": b"N = 1\n"}


def test_an_edit_through_a_link_inside_the_project_lands_where_the_link_leads(repo):
    (repo / "lib").mkdir()
    (repo / "lib" / "core.py").write_text("A = 1\n")
    os.symlink("lib", repo / "alias")
    outcome = edits_module.apply_edits(Workspace(repo), [WholeFile("alias/core.py", "A = 2\n")], guard)
    assert outcome.changed == ["lib/core.py"] and outcome.written == {"lib/core.py": b"A = 2\n"}


def test_search_replace_applies_and_whole_file_creates(repo):
    edits = [SearchReplace("mod.py", "    return 0\n", "    return 1\n", 1), WholeFile("pkg/new.py", "N = 1\n")]
    outcome = apply_edits(repo, edits, guard)
    assert outcome.changed == ["mod.py", "pkg/new.py"]
    assert (repo / "mod.py").read_text() == "def f():\n    return 1\n\n\nX = 1\n"
    assert (repo / "pkg/new.py").read_text() == "N = 1\n"


def test_search_tolerates_trailing_spaces(repo):
    edits = [SearchReplace("mod.py", "def f():  \n    return 0\n", "def f():\n    return 2\n", 1)]
    outcome = apply_edits(repo, edits, guard)
    assert outcome.misses == []
    assert (repo / "mod.py").read_text().startswith("def f():\n    return 2\n")


def test_search_written_at_another_indentation_is_reindented(repo):
    (repo / "mod.py").write_text("class C:\n    def f(self):\n        return 0\n")
    edits = [SearchReplace("mod.py", "def f(self):\n    return 0\n", "def f(self):\n    return 5\n", 1)]
    apply_edits(repo, edits, guard)
    assert (repo / "mod.py").read_text() == "class C:\n    def f(self):\n        return 5\n"


def test_a_search_miss_names_the_block_and_shows_the_closest_lines(repo):
    edits = [SearchReplace("mod.py", "X = 1\n", "X = 3\n", 1),
             SearchReplace("mod.py", "def f():\n    return 42\n", "def f():\n    return 1\n", 2)]
    outcome = apply_edits(repo, edits, guard)
    assert outcome.changed == ["mod.py"]
    [miss] = outcome.misses
    assert miss.number == 2 and miss.path == "mod.py"
    assert miss.closest == "def f():\n    return 0" and miss.line == 1
    assert "return 0" in (repo / "mod.py").read_text()


def test_an_ambiguous_search_is_a_miss(repo):
    (repo / "mod.py").write_text("a = 1\na = 1\n")
    outcome = apply_edits(repo, [SearchReplace("mod.py", "a = 1\n", "a = 2\n", 1)], guard)
    assert "matches 2 places" in outcome.misses[0].reason
    assert (repo / "mod.py").read_text() == "a = 1\na = 1\n"


@pytest.mark.parametrize("path, reason", [
    ("/etc/passwd", "absolute"),
    ("../outside.py", "leave the project"),
    ("pkg/../../outside.py", "leave the project"),
    ("tests/test_mod.py", "read-only"),
    ("tests/helpers.py", "read-only"),
    ("test_other.py", "read-only"),
    ("pkg/thing_test.py", "read-only"),
    ("conftest.py", "configures"),
    ("sub/conftest.py", "configures"),
    ("pyproject.toml", "configures"),
    ("pytest.ini", "configures"),
    (".git/config", "off limits"),
])
def test_refused_paths_are_reported_and_nothing_is_written(repo, path, reason):
    before = {p: p.read_bytes() for p in repo.rglob("*") if p.is_file()}
    outcome = apply_edits(repo, [WholeFile(path, "pwned\n")], guard)
    assert outcome.changed == []
    assert reason in outcome.refused[0].reason
    assert {p: p.read_bytes() for p in repo.rglob("*") if p.is_file()} == before
    assert not (repo.parent / "outside.py").exists()


def test_a_symlink_leading_out_of_the_project_is_refused(repo, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside")
    os.symlink(outside, repo / "link")
    outcome = apply_edits(repo, [WholeFile("link/evil.py", "x\n")], guard)
    assert "symbolic link" in outcome.refused[0].reason
    assert not (outside / "evil.py").exists()


def test_binary_files_and_impossible_paths_are_refused_not_crashed_on(repo):
    (repo / "blob.bin").write_bytes(b"\xff\xfe\x00")
    (repo / "folder").mkdir()
    outcome = apply_edits(repo, [SearchReplace("blob.bin", "x", "y", 1), WholeFile("folder", "x\n"),
                                 WholeFile("mod.py/inner.py", "x\n")], guard)
    assert [r.path for r in outcome.refused] == ["blob.bin", "folder", "mod.py/inner.py"]
    assert "not a UTF-8 text file" in outcome.refused[0].reason
    assert (repo / "blob.bin").read_bytes() == b"\xff\xfe\x00"


# What real models write (small local models above all): each read for what it means, a cut-off block never applied.

def test_the_path_as_a_comment_on_the_blocks_first_line():
    text = answer("Here is the implementation:", f"{FENCE}python", "# roman.py", "def f():", "    return 1", FENCE,
                  f"{FENCE}python", "# File: pkg/b.py", "B = 2", FENCE)
    assert parse_edits(text) == [WholeFile("roman.py", "def f():\n    return 1\n"), WholeFile("pkg/b.py", "B = 2\n")]


def test_a_plain_comment_on_the_first_line_is_kept_as_code():
    text = answer("mod.py", f"{FENCE}python", "# helpers for roman numerals", "X = 1", FENCE)
    assert parse_edits(text) == [WholeFile("mod.py", "# helpers for roman numerals\nX = 1\n")]


def test_the_path_after_a_colon_in_the_info_string():
    assert parse_edits(answer(f"{FENCE}python:pkg/a.py", "A = 1", FENCE)) == [WholeFile("pkg/a.py", "A = 1\n")]


def test_a_block_without_a_path_is_the_one_expected_file():
    text = answer("Sure! Here's the code:", f"{FENCE}python", "def double(x):", "    return 2 * x", FENCE,
                  "Usage:", f"{FENCE}python", "print(double(2))", FENCE)
    assert parse_edits(text) == []  # nothing says where it goes
    assert parse_edits(text, default_path="double.py") == [WholeFile("double.py", "def double(x):\n    return 2 * x\n")]


def test_a_pathless_block_is_not_guessed_when_another_block_names_its_file_or_it_is_a_test():
    named = answer("a.py", f"{FENCE}python", "A = 1", FENCE, f"{FENCE}python", "def helper():", "    pass", FENCE)
    assert parse_edits(named, default_path="b.py") == [WholeFile("a.py", "A = 1\n")]
    tests = answer(f"{FENCE}python", "from double import double", "def test_double():", "    assert double(2) == 4",
                   FENCE)
    assert parse_edits(tests, default_path="double.py") == []  # nothing but tests: not the implementation


def test_a_unified_diff_becomes_one_edit_per_hunk_and_applies_without_line_numbers(repo):
    text = answer("```diff", "--- a/mod.py", "+++ b/mod.py", "@@ -1,2 +1,2 @@", " def f():", "-    return 0",
                  "+    return 7", "@@ -40,1 +40,1 @@", "-X = 1", "+X = 2", FENCE)
    edits = parse_edits(text)
    assert [(e.path, e.kind) for e in edits] == [("mod.py", "diff hunk")] * 2
    outcome = apply_edits(repo, edits, guard)
    assert outcome.changed == ["mod.py"] and outcome.misses == []
    assert (repo / "mod.py").read_text() == "def f():\n    return 7\n\n\nX = 2\n"


def test_a_diff_creating_a_file(repo):
    text = answer(FENCE, "--- /dev/null", "+++ b/pkg/new.py", "@@ -0,0 +1,2 @@", "+A = 1", "+B = 2", FENCE)
    assert apply_edits(repo, parse_edits(text), guard).changed == ["pkg/new.py"]
    assert (repo / "pkg/new.py").read_text() == "A = 1\nB = 2\n"


def test_an_answer_cut_off_inside_its_last_block_applies_nothing_of_it(repo):
    text = answer("mod.py", f"{FENCE}python", "def f():", "    return [1, 2")
    before = (repo / "mod.py").read_text()
    for complete in (True, False):
        outcome = apply_edits(repo, parse_edits(text, complete=complete), guard)
        assert outcome.changed == [] and "ended inside it" in outcome.refused[0].reason
        assert (repo / "mod.py").read_text() == before
    cut_search = answer("mod.py", f"{FENCE}python", "<<<<<<< SEARCH", "    return 0", "=======", "    return 9")
    outcome = apply_edits(repo, parse_edits(cut_search, complete=False), guard)
    assert "SEARCH/REPLACE block 1 was not applied" in outcome.refused[0].reason


def test_an_unclosed_last_block_of_a_finished_answer_is_applied_when_it_parses(repo):
    text = answer("mod.py", f"{FENCE}python", "def f():", "    return 3")
    assert parse_edits(text, complete=True) == [WholeFile("mod.py", "def f():\n    return 3\n")]
    assert isinstance(parse_edits(text, complete=False)[0], CutOff)  # the output limit cut it: never trusted


def test_search_with_blank_lines_dropped_and_indentation_changed(repo):
    (repo / "mod.py").write_text("class C:\n    def f(self):\n\n        return 0\n")
    edits = [SearchReplace("mod.py", "def f(self):\n    return 0\n", "def f(self):\n    return 5\n", 1)]
    assert apply_edits(repo, edits, guard).misses == []
    assert (repo / "mod.py").read_text() == "class C:\n    def f(self):\n        return 5\n"


def test_the_tests_copied_into_an_implementation_file_are_dropped_or_refused(repo):
    copying = TestGuard({"tests/test_mod.py"}, {"test_one", "test_two", "test_three"})
    only_tests = "from mod import f\n\ndef test_one():\n    assert f() == 1\n\ndef test_two():\n    assert f() == 2\n"
    outcome = apply_edits(repo, [WholeFile("pkg/shapes.py", only_tests)], copying)
    assert outcome.changed == [] and "only repeats the tests' own test functions" in outcome.refused[0].reason
    assert not (repo / "pkg").exists()
    both = ("def f():\n    return 1\n\n\n@pytest.mark.parametrize('x', [1])\ndef test_one(x):\n    assert f() == x\n"
            "\n\ndef test_helper_name_that_is_not_theirs():\n    pass\n")
    assert apply_edits(repo, [WholeFile("mod.py", both)], copying).changed == ["mod.py"]
    assert (repo / "mod.py").read_text() == "def f():\n    return 1\n\n\ndef test_helper_name_that_is_not_theirs():\n    pass\n"


def test_a_file_named_at_the_end_of_prose_is_the_path_of_the_python_block_after_it_only():
    text = answer("Here is the updated roman.py:", f"{FENCE}python", "X = 1", FENCE,
                  "Run it with python main.py", f"{FENCE}bash", "python main.py", FENCE)
    assert parse_edits(text) == [WholeFile("roman.py", "X = 1\n")]


def test_a_stray_fence_before_the_code_is_read_as_the_prose_it_closed():
    text = answer("CONTRADICTION", "the tests disagree", FENCE, "", "The path alone: roman.py", "",
                  f"{FENCE}python", "def f():", "    return 1", FENCE)
    assert parse_edits(text) == [WholeFile("roman.py", "def f():\n    return 1\n")]
