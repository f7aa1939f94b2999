"""The emulated amoCRM data: accounts, users, CRM entities, integrations and tokens."""
