"""Admin views, one module per area; importing this package registers them on the blueprint."""
from . import (  # noqa: F401
    auth,
    bindings,
    board,
    calendar,
    callbacks,
    catalog,
    complaints,
    feedback,
    houses,
    intake,
    notices,
    orders,
    staff,
)
