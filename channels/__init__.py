"""Channel adapters: one file per channel, found through the `broadcaster.channels` entry points."""
