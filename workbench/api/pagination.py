from __future__ import annotations

from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """``?page=N&page_size=M`` (at most 1000 rows a page); every list is ordered by
    a unique key, so pages neither repeat nor skip rows."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
