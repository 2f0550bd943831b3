"""Which missing imports are third-party packages to declare, not modules for the model to write."""
from __future__ import annotations

from agent.context.dependencies import distribution_of


def test_a_package_installed_here_is_named_by_its_distribution_and_an_unknown_name_is_the_models():
    assert distribution_of("tree_sitter.binding") == "tree-sitter"  # installed here, not in the known list
    assert distribution_of("pandas") == "pandas"  # known, installed or not
    assert distribution_of("inventory_of_the_user") is None  # code for the model to write
