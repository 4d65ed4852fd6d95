"""pytest fixtures for the fake GitHub of testkit.fake_github (see plugin.py)."""
