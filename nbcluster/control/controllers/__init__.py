"""The controller manager's control loops, one module each."""
