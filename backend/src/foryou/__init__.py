"""ForYou CRM Connect backend."""
