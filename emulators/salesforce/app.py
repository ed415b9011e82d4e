from ..core.http import EmulatorApp


class SalesforceApp(EmulatorApp):
    name = "salesforce"
