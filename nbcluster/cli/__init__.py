"""kubectl-like verbs shared by the magics and the Python API."""
