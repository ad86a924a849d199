"""Admin views, one module per area; importing this package registers them on the blueprint."""
from . import auth, bindings, board, callbacks, complaints, feedback, intake, notices, orders  # noqa: F401
