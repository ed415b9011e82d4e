from rest_framework.renderers import BaseRenderer


class CSVRenderer(BaseRenderer):
    """Lets content negotiation accept ``Accept: text/csv`` (and ``?format=csv``) for a view
    that streams CSV itself; the view answers its errors as JSON (see ``ErrorExportView``)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if isinstance(data, bytes):
            return data
        return ("" if data is None else str(data)).encode(self.charset)
