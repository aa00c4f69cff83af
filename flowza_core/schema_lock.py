"""One schema migration at a time in this process.

Alembic keeps the migration it is running in module globals (``alembic.context``), and Flowza's
metadata database and MLflow's SQLite store both migrate with it. Two migrations on two threads
(the API starting while the worker's first run opens MLflow, say) would cross: each takes this lock.
"""

import threading

MIGRATING = threading.Lock()
