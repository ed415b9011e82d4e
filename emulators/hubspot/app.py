from ..core.http import EmulatorApp


class HubSpotApp(EmulatorApp):
    name = "hubspot"
