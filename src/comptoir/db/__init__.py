"""Database backends of our own: Django's, with what our request path needs changed (see each backend)."""
