"""Honest green: tests lost or escaped, answers by heart, special cases, what the code reached while the tests ran,
held-out tests, paths the model may not write, and contradictions in the tests (found, claimed, judged)."""
