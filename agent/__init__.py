"""makegreen: failing pytest tests in, a green implementation out."""

__version__ = "0.1.0"

# `python -c LAUNCH ARGS…` runs makegreen from the interpreter's installed packages. `python -m agent` would import
# an `agent` folder in the current directory first: in someone else's checkout, their code, with your secrets.
LAUNCH = ('import sys; sys.path[:] = [p for p in sys.path if p != ""]; sys.argv[0] = "makegreen"; '
          'from agent.launch import main; main()')
