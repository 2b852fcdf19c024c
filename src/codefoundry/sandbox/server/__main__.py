"""``python -m codefoundry.sandbox.server CFG_JSON``: the same as the supervisor's boot code."""

from codefoundry.sandbox.server.boot import main

main()
