"""The weekly digest: build (pure), render (Jinja2), schedule and publish exactly once."""
