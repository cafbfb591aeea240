"""Portico's in-cluster data plane: an asyncio Gateway API proxy fed with the IR."""
