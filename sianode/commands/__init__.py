"""CLI command groups, one module per pipeline stage; each defines ``register(app)``."""
