"""The domain: models, connectors to both CRMs, the sync pipeline, budget and error taxonomy."""
