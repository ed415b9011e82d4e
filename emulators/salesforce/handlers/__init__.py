"""REST resource handlers, one module per resource family; each has ``register(app)``."""
