"""One module per command: the command's body. `envsync.cli` only parses and dispatches."""
