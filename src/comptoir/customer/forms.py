"""Customer space forms (confirm receipt, open an incident) come with later issues."""
