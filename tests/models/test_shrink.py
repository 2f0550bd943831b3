from agent.context.shrink import shrink

FENCE = "`" * 3


def failure(n: int, lines: int) -> str:
    return f"## t.py::test_{n} FAILED\n{FENCE}\n" + "\n".join(f"line {i}" for i in range(lines)) + f"\n{FENCE}\n"


def test_history_goes_first_oldest_first_then_detail_then_the_last_attempt():
    system = {"role": "system", "content": "rules"}
    task = {"role": "user", "content": "# Task\n\n# Test results now\n\n" + failure(0, 5)}
    pairs = []
    for n in range(3):
        pairs += [{"role": "assistant", "content": f"answer {n}"},
                  {"role": "user", "content": "# Test results now: 5 failed\n\n" + "".join(failure(i, 60) for i in range(5))}]
    messages = [system, task, *pairs]
    steps = []
    while messages is not None:
        steps.append(messages)
        messages = shrink(messages)
    assert [len(step) for step in steps] == [8, 6, 4, 4, 4, 2]
    assert steps[2][2]["content"] == "answer 2"  # the latest attempt is the one kept
    assert "[... 36 lines cut ...]" in steps[3][3]["content"] and "line 59" in steps[3][3]["content"]
    assert "[... 2 more failures cut ...]" in steps[4][3]["content"]
    assert steps[-1] == [system, task]
