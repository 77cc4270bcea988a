from rest_framework.pagination import CursorPagination


class Cursor(CursorPagination):
    """Opaque `next`/`previous` links: stable under inserts, and as fast on the millionth
    lead as on the first (an indexed seek, no OFFSET count)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"


class FeedCursor(Cursor):
    """The events feed: oldest first, so a client follows `next` to what is new."""

    ordering = "id"
