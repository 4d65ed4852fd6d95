"""`copilot-proxy run`: the product on one machine, no cluster. The run loop is main.py."""
