"""The prompts a real run sends: flat in the size of the repository, and flat in the number of attempts."""
from __future__ import annotations

from benchmarks.context_size import padded_files
from tests.conftest import ANSWERS, make_repo
from tests.e2e.test_solve import solve, summary_of
from tests.scripted_server import Reply, ScriptedServer


def test_a_repo_full_of_unrelated_modules_sends_only_what_the_tests_need(tmp_path):
    repo = make_repo(tmp_path / "padded", padded_files(60), example="inventory")
    with ScriptedServer([Reply((ANSWERS / "inventory.md").read_text())]) as server:
        result = solve(repo, server, "tests/test_models.py", "tests/test_store.py", "--json", "--sandbox", "local")
    assert result.returncode == 0, result.stderr
    text = "\n".join(m["content"] for m in server.chat_requests()[0]["messages"])
    assert "src/inventory/__init__.py" in text and "`inventory.store` → src/inventory/store.py" in text
    assert "`inventory.store.Store`: called with 0 positional arguments; methods used: add(1), quantity(1), " \
           "remove(2)" in text
    assert "billing" not in text and "Ledger" not in text
    assert (repo / ".makegreen" / "cache" / "facts.json").is_file()


def test_earlier_attempts_are_summarised_not_replayed(tmp_path):
    repo = make_repo(tmp_path / "roman", example="roman")
    wrong = (ANSWERS / "roman_wrong.md").read_text()
    also_wrong = wrong.replace('"I" * number', '"X" * number')
    with ScriptedServer([Reply(wrong), Reply(also_wrong), Reply((ANSWERS / "roman.md").read_text())]) as server:
        result = solve(repo, server, "--json", "--sandbox", "local", "--second-draft", "off")
    assert result.returncode == 0, result.stderr
    assert summary_of(result)["iterations"] == 3
    third = server.chat_requests()[2]["messages"]
    assert [m["role"] for m in third] == ["system", "user"]  # one message: no answer is sent back
    task = third[1]["content"]
    # the same tests failed twice: stuck, the model is shown the code as it was before any attempt (roman.py
    # did not exist), the best code's failures and the attempts summarised, and asked for the file anew
    assert '"X" * number' not in task and '"I" * number' not in task
    assert "# Test results of the best code so far (not shown)" in task and "write the file anew" in task
    assert "# Earlier attempts" in task and "- Attempt 1: changed roman.py (+6 −0 lines since the start); then" in task
    assert "returned 'IIII', but the test expects 'IV'." in task  # what then failed
