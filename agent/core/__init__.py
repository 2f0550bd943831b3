"""What every room stands on: typed errors, the Model and Sandbox protocols, strict template rendering, how counts
are said, Python read by tree-sitter, and interrupts held over a block that must not stop half-way. Imports no
other room."""
