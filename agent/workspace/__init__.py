"""The user's tree: its snapshot in memory (the run's one writer), the model's edits made against it (pure), the
apply back into the tree (all or none, journalled), undo, makegreen's own folder, and git."""
