"""The user's git repository: whether a fix can be committed there, and committing it (hooks always run)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Sequence

from ..core.errors import ConfigError, MakegreenError

TRAILER = "Generated-by"
LISTED_TESTS = 30  # tests named in a commit message at most; the rest are counted
IN_PROGRESS = (  # what git leaves in its folder while an operation waits for the user
    ("rebase-merge", "a rebase", "git rebase --continue or git rebase --abort"),
    ("rebase-apply", "a rebase or git am", "git rebase --continue / git am --continue, or --abort"),
    ("MERGE_HEAD", "a merge", "git commit, or git merge --abort"),
    ("CHERRY_PICK_HEAD", "a cherry-pick", "git cherry-pick --continue or --abort"),
    ("REVERT_HEAD", "a revert", "git revert --continue or --abort"),
)


class CommitRefused(MakegreenError):
    """The fix is applied but was not committed: a hook refused it, or it would have swept in the user's work."""


def open_repo(root: Path):
    import git

    try:
        return git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None


def toplevel(path: Path) -> Path | None:
    """The working tree path is in, by git itself (no gitpython: the hook's everyday path starts fast); None outside
    one (a bare repository, or none)."""
    import subprocess

    try:
        done = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=path, capture_output=True, text=True)
    except FileNotFoundError:
        raise ConfigError("git is not installed (or not on PATH): the hook needs it to read what is staged") from None
    top = done.stdout.strip()
    return Path(top) if done.returncode == 0 and top else None


def git_path(repo, name: str) -> Path:
    """Where git keeps name for this working tree (linked worktrees and core.hooksPath included)."""
    found = Path(repo.git.rev_parse("--git-path", name))
    return found if found.is_absolute() else Path(repo.working_tree_dir) / found


def check_can_commit(root: Path, branch: str | None) -> None:
    """Refuse, before anything is spent, a repository in which the fix could not be committed as asked."""
    import git

    repo = open_repo(root)
    flag = "--branch" if branch else "--commit"
    if repo is None:
        raise ConfigError(f"{flag} needs a git repository, and {root} is not in one")
    if repo.head.is_detached and not branch:
        raise ConfigError("HEAD is detached: --commit would leave the fix on no branch. Check out a branch, or "
                          "use --branch NAME to put the fix on a new one")
    for name, what, how in IN_PROGRESS:
        if git_path(repo, name).exists():
            raise ConfigError(f"{what} is in progress in {repo.working_tree_dir}: finish it first ({how})")
    conflicted = sorted({line.split("\t", 1)[-1] for line in repo.git.ls_files("--unmerged").splitlines()})
    if conflicted:
        raise ConfigError(f"the index has unresolved conflicts ({', '.join(conflicted)}): resolve them and "
                          "git add the files first")
    if branch:
        try:
            repo.git.check_ref_format("--branch", branch)
        except git.GitCommandError:
            raise ConfigError(f"--branch {branch!r} is not a valid branch name") from None
        if f"refs/heads/{branch}" in {ref.path for ref in repo.branches}:
            raise ConfigError(f"branch {branch} exists already: choose a new name")


def commit_message(tests: Sequence[str], model: str) -> str:
    files = sorted({test.split("::")[0] for test in tests})
    subject = (f"makegreen: make {len(tests)} test{'s' if len(tests) != 1 else ''} pass"
               + (f" in {', '.join(files)}" if 0 < len(files) <= 2 else ""))
    listed = [f"- {test}" for test in tests[:LISTED_TESTS]]
    if len(tests) > LISTED_TESTS:
        listed.append(f"- … and {len(tests) - LISTED_TESTS} more")
    body = "Turned green:\n" + "\n".join(listed) if listed else "The tests pass."
    return f"{subject}\n\n{body}\n\n{TRAILER}: makegreen ({model})\n"


def _committed(repo, path: str) -> bytes | None:
    try:
        return (repo.head.commit.tree / path).data_stream.read()
    except (KeyError, ValueError):  # not in HEAD, or no commit yet
        return None


def uncommitted(root: Path, original: Mapping[str, bytes | None], paths: Sequence[str]) -> list[str]:
    """Those of paths whose content (as original holds it) differs from the last commit: work of the user's that
    a rewrite of the file would replace. Outside git, none can be told."""
    repo = open_repo(root)
    if repo is None:
        return []
    relative = os.path.relpath(root, repo.working_tree_dir)
    return [path for path in paths
            if _committed(repo, os.path.normpath(os.path.join(relative, path)).replace(os.sep, "/"))
            != original.get(path)]


def commit_fix(root: Path, original: Mapping[str, bytes | None], *, paths: Sequence[str], message: str,
               branch: str | None, hooks: bool = True) -> str:
    """Commit exactly the applied fix (on a new branch when asked) and return the commit's id. The commit goes
    through the repository's hooks (a hook that fails leaves the fix applied and uncommitted), unless hooks is
    False: for an untrusted checkout, whose hooks (a pre-commit configuration's local hooks) are its own code and
    would run on this machine, outside the sandbox."""
    import git

    repo = open_repo(root)
    relative = os.path.relpath(root, repo.working_tree_dir)
    in_repo = [os.path.normpath(os.path.join(relative, path)).replace(os.sep, "/") for path in paths]
    # a file the fix touched that held uncommitted work of the user's would be committed along with it
    mixed = uncommitted(root, original, paths)
    if mixed:
        raise CommitRefused(f"the fix is applied but not committed: {', '.join(mixed)} held uncommitted changes "
                            "of yours, which a commit would include. Review with git diff, then commit by hand")
    try:
        if branch:
            repo.git.checkout("-b", branch)
        repo.git.add("-A", "--", *in_repo)
        # only these paths: whatever else the user has staged stays staged, not committed
        committer = repo.git if hooks else repo.git(c="core.hooksPath=/dev/null")
        committer.commit("-m", message, "--", *in_repo)
    except git.GitCommandError as exc:
        said = "\n".join(part.strip() for part in (exc.stdout, exc.stderr) if part and part.strip())
        raise CommitRefused(f"the fix is applied but the commit failed (git's hooks ran and one refused, or git "
                            f"did): {said.strip() or exc}") from None
    return repo.head.commit.hexsha
