"""The pure protocol core: codecs, the session state machine, deadlines."""
