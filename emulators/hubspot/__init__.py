"""The HubSpot CRM API emulator."""
