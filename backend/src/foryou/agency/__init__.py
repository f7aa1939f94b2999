"""The agency's account-level amoCRM access: one admin connection per amoCRM account."""
