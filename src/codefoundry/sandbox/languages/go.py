"""Go (Debian golang-go): stdio only; compiled once per distinct source and cached."""

from __future__ import annotations

from codefoundry.sandbox.languages.base import Language

LANGUAGE = Language(
    name="go",
    styles=("stdio",),
    toolchain=("go",),
    source="main.go",
    compile=("go", "build", "-o", "{out}/main", "{src}"),
    compile_env={
        # Build cache on the worker's tmpfs, owned by root (compiles run as root) so candidates cannot poison it.
        "GOCACHE": "{scratch_root}/.gocache",
        "GOPATH": "{dir}/gopath",
        "GOTOOLCHAIN": "local",
        "GOPROXY": "off",
        "GOFLAGS": "-mod=mod",
        "GO111MODULE": "off",
        "CGO_ENABLED": "0",
    },
    compile_dirs=("{scratch_root}/.gocache",),
    run=("{art}/main",),
    env={"GOMAXPROCS": "2"},
    extra_mb=512,
    compile_time_s=120.0,
    compile_memory_mb=4096,
    compile_as_mode="none",
    compile_drop_uid=False,
    notes="stdio only",
)
