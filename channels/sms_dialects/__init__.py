"""SMS gateway dialects: how one gateway wants a batch of messages, and what its answers mean."""
