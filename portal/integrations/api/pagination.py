from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination


class Cursor(CursorPagination):
    """Opaque `next`/`previous` links: stable under inserts, and as fast on the millionth
    lead as on the first (an indexed seek, no OFFSET count)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"

    def get_page_size(self, request) -> int:
        """`page_size` from 1 to 200; anything else is a 400 naming it, not silently 50."""
        asked = request.query_params.get(self.page_size_query_param)
        if asked is None:
            return self.page_size
        if not asked.isdigit() or not 1 <= int(asked) <= self.max_page_size:
            message = f"A whole number from 1 to {self.max_page_size}."
            raise ValidationError({self.page_size_query_param: [message]}, code="invalid")
        return int(asked)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update({"minimum": 1, "maximum": self.max_page_size})
        return parameters


class FeedCursor(Cursor):
    """The events feed: oldest first, so a client follows `next` to what is new."""

    ordering = "id"
