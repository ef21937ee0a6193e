"""Tracker: DynamoDB access."""
