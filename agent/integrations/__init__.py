"""The ways makegreen is used beyond one `solve`: the pre-commit hook, the GitHub Action's job, the bench, past runs
read back and replayed, and `doctor`."""
