"""工单: the list with filters, paging, sorting and xlsx export; an order's detail with its actions."""
from __future__ import annotations
