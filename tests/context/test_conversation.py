"""The prompt as data: a conversation keeps its latest exchange whole and summarises the rest; each message knows
its template; the values that may shrink do so on the structure."""
from agent.context.conversation import ANSWER, Message, Prompt
from agent.context.history import Attempt
from agent.context.prompt import Files, RepoMap


def exchange(n: int) -> tuple[str, Message]:
    return f"answer {n}", Message("user", "lost_tests.md", {"tests": [f"t{n}"]})


def test_only_the_latest_exchange_stays_whole_the_earlier_ones_are_summarised():
    prompt = Prompt(Message("system", "system.md", {"claims": ""}), Message("user", None, {"text": "the task"}))
    attempts = [Attempt(n, ("a.py",), "+1 −0 lines since the start", "1 failed") for n in (1, 2, 3)]
    for n in (1, 2, 3):
        prompt = prompt.then(*exchange(n)).latest(attempts[:n])
    messages = prompt.messages()
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[2]["content"] == "answer 3" and messages[3]["content"].endswith("- t3\n")
    assert "- Attempt 1: changed a.py (+1 −0 lines since the start); then 1 failed" in messages[1]["content"]
    assert "Attempt 3" not in messages[1]["content"]  # the latest is shown whole, not summarised as well
    assert prompt.templates() == ("prompts/system.md", "(no template) + prompts/history.md", ANSWER,
                                  "prompts/lost_tests.md")
    fresh = prompt.restarted(attempts)
    assert len(fresh.messages()) == 2 and "Attempt 3" in fresh.messages()[1]["content"]


def test_a_message_is_smaller_only_where_one_of_its_parts_is():
    files = Files((("a.py", b"A = 1\n"), ("b.py", b"B = 1\n")), droppable=True)
    message = Message("user", "feedback.md", {"files": files, "kept": Files((("t.py", b"T\n"),))})
    smaller = message.smaller("sources")
    assert [path for path, _ in smaller.values["files"].files] == ["a.py"]
    assert smaller.values["kept"] is message.values["kept"]  # not droppable: untouched
    assert message.smaller("map") is None
    assert RepoMap((), {}, frozenset(), 0).smaller("map") is None  # already gone
