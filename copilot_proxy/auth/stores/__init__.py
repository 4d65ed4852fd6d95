"""Where the login service keeps GitHub tokens: the interface (protocol.py) and its two
stores, Kubernetes Secrets (kubernetes.py) and files for the local mode (directory.py)."""
