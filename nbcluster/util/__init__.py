"""Small helpers with no knowledge of Kubernetes: clock, JSON copying, time formats. No I/O."""
