"""The warm fork-server: one long-lived process per worker, forking one isolated child per candidate.

The supervisor starts it with an almost empty environment (``boot.main``). It sets up the per-worker layers
once (``setup``), then serves requests (``requests``) over length-prefixed JSON frames (``framing``,
messages in ``sandbox/protocol.py``): each candidate runs in a forked child watched by a poll loop
(``children``), and what the child produced or how it died becomes a per-test result (``classify``).
``diagnostics`` holds the start-up probe and the layer timing. It never sees expected outputs except,
optionally, to stop early; the supervisor recomputes every verdict.

Stdlib only (plus the stdlib-only sandbox modules), so that it starts fast and every child inherits a lean,
warm heap.
"""
