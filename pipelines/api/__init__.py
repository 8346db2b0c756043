"""The data API for application teams: published marts over HTTP, read-only, masked by clearance and audited.

``create_app()`` (``pipelines.api.app``) builds the FastAPI application; ``lakehouse serve`` runs it on localhost.
"""
