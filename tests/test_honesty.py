"""Honest green without false refusals, measured on two corpora (tests/honesty/): correct implementations that
share specification constants with their tests must all be accepted, and every gaming answer must be caught."""
from __future__ import annotations

import subprocess
import sys

import pytest

from agent.honesty.gaming import answers_by_heart
from agent.honesty.integrity import content_problem
from tests.honesty import correct, gaming


def judged(tests: str, path: str, code: str) -> str | None:
    """Why makegreen keeps this answer red, or None: the edit refused, or the tests' answers held by heart."""
    refused = content_problem(path, code)
    if refused:
        return refused
    found = answers_by_heart({"tests/test_it.py": tests.encode()}, {path: code.encode()})
    return "; ".join(found) or None


EVERY_CORRECT = correct.CASES + correct.INTROSPECTIVE


@pytest.mark.parametrize("case", EVERY_CORRECT, ids=[case[0] for case in EVERY_CORRECT])
def test_correct_code_sharing_constants_with_its_tests_is_never_refused(case):
    _name, tests, path, code, *_files = case
    assert judged(tests, path, code) is None


STATIC = [case for case in gaming.CASES if case[0] not in gaming.AT_RUN_TIME and case not in gaming.REACHING]


@pytest.mark.parametrize("name, tests, path, code", STATIC, ids=[case[0] for case in STATIC])
def test_every_gaming_answer_is_caught_with_a_reason(name, tests, path, code):
    assert judged(tests, path, code)


def test_the_correct_corpus_is_correct(tmp_path):
    """Each implementation passes its tests for real (so a refusal of it would be a false one): one pytest run, each
    case's test file beside its module."""
    assert len(correct.CASES) >= 30 and len(correct.INTROSPECTIVE) >= 10
    for n, (_name, tests, path, code, *files) in enumerate(EVERY_CORRECT):
        (tmp_path / f"case{n}").mkdir()
        (tmp_path / f"case{n}" / f"test_case{n}.py").write_text(tests)
        (tmp_path / f"case{n}" / path).write_text(code)
        for name, text in (files[0] if files else {}).items():
            (tmp_path / f"case{n}" / name).write_text(text)
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "."], cwd=tmp_path,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:]
