"""Emulators and fakes the tests reach the clouds through, over real sockets; their
fixtures are pytest plugins (tests/conftest.py `pytest_plugins`)."""
