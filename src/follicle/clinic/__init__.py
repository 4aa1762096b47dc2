"""The pure clinical domain: no I/O beyond reading its own packaged data, no database, no web."""
