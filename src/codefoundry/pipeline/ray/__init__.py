"""The Ray runner: the same stages, batches executed by actors on a Ray cluster, the run directory kept by
the driver. ``executor.py`` (driver side), ``actors.py`` (what runs on the cluster), ``remote.py`` (the
services a stage sees on a worker: the cluster's teachers and its node's sandbox)."""
