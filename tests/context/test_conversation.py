"""The prompt as data: one user message holds the task and where the work stands now, never the model's earlier
answers; each part knows its template; the values that may shrink do so on the structure."""
from agent.context.conversation import Message, Prompt
from agent.context.history import Attempt
from agent.context.prompt import Files, RepoMap


def state(attempts: list[Attempt], feedback: str = "") -> Message:
    return Message("user", "state.md", {"attempts": attempts, "counts": "1 failed", "failures": "## t FAILED",
                                        "feedback": feedback, "first": not (attempts or feedback),
                                        "work_through": "", "anew": False, "answer_format": "# How to answer"})


def test_one_user_message_with_the_task_then_the_state_and_its_templates_named():
    attempts = [Attempt(n, ("a.py",), "+1 −0 lines since the start", "1 failed") for n in (1, 2)]
    prompt = Prompt(Message("system", "system.md", {"claims": ""}), Message("user", None, {"text": "the task\n"}),
                    state(attempts, "# Your last answer\n\nApplied: a.py"))
    messages = prompt.messages()
    assert [m["role"] for m in messages] == ["system", "user"]
    user = messages[1]["content"]
    assert user.startswith("the task\n\n# Earlier attempts")
    assert "- Attempt 2: changed a.py (+1 −0 lines since the start); then 1 failed" in user
    assert user.index("# Test results now: 1 failed") < user.index("# Your last answer") \
        < user.index("Fix the remaining failures") < user.index("# How to answer")
    assert prompt.told == prompt.state.text and "the task" not in prompt.told
    assert prompt.templates() == ("prompts/system.md", "(no template) + prompts/state.md")
    first = Prompt(prompt.system, prompt.task, state([]))
    assert "Write the implementation so that these tests pass." in first.messages()[1]["content"]
    assert "Earlier attempts" not in first.messages()[1]["content"]


def test_the_history_goes_last_and_only_once():
    attempts = [Attempt(1, ("a.py",), "", "1 failed")]
    prompt = Prompt(Message("system", "system.md", {"claims": ""}), Message("user", None, {"text": "task"}),
                    state(attempts, "told"))
    bare = prompt.without_history()
    assert "Attempt 1" in prompt.messages()[1]["content"] and "Attempt 1" not in bare.messages()[1]["content"]
    assert bare.without_history() is None


def test_a_message_is_smaller_only_where_one_of_its_parts_is():
    files = Files((("a.py", b"A = 1\n"), ("b.py", b"B = 1\n")), droppable=True)
    message = Message("user", "feedback.md", {"files": files, "kept": Files((("t.py", b"T\n"),))})
    smaller = message.smaller("sources")
    assert [path for path, _ in smaller.values["files"].files] == ["a.py"]
    assert smaller.values["kept"] is message.values["kept"]  # not droppable: untouched
    assert message.smaller("map") is None
    assert RepoMap((), {}, frozenset(), 0).smaller("map") is None  # already gone
