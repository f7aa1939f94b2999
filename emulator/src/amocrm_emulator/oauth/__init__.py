"""OAuth 2.0 as amoCRM does it: consent page, authorization codes and the token endpoint."""
