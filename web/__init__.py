"""Map pages and templates of the service."""
