"""Workflow store: users, sessions, reviews, rule proposals and settings, operation log (SQLAlchemy 2)."""
