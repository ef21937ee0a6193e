"""EMS launcher: Finds due campaigns and fans them out into the send queue."""
