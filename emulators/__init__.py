"""Local emulators of the Salesforce REST API and the HubSpot CRM API.

They stand in for the real services in the demo, the tests and the benchmarks. The official
clients (simple-salesforce, hubspot-api-client) talk to them over real HTTP(S). This package
imports nothing from Django or from the product.
"""
