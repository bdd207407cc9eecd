"""Peer simulators that accelsim compares its results against."""
