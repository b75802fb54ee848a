"""Core: settings helpers, errors, error pages, file helpers, the domain-event registry, base
templates and static files; knows no domain (bottom layer, below every app)."""
