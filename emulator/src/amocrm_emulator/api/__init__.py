"""API v4 of an account, answered with each user's own rights."""
