"""What the model is shown: the tests, the code they need, and what is failing."""
