"""Tracker: Lambda entry points."""
