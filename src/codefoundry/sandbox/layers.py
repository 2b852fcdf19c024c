"""The start-up layer report: what a fork-server set up, confirmed by what its probe child observed.

A layer counts as active only when both agree (the set-up note says so and the check from inside bites),
so ``Sandbox.layers()`` and ``codefoundry sandbox doctor`` never report a layer that does not hold.
"""

from __future__ import annotations

from codefoundry.sandbox.config import ALL_LAYERS, LayerReport
from codefoundry.sandbox.languages import registry
from codefoundry.sandbox.protocol import ProbeReport


def layer_report(enabled_layers: list[str], probe: ProbeReport) -> dict[str, LayerReport]:
    """Merge what the fork-server set up with what the probe child observed from inside."""
    enabled = set(enabled_layers)
    notes = probe.notes
    checks = probe.checks
    rep: dict[str, LayerReport] = {}

    def add(name: str, active: bool, detail: str) -> None:
        if name not in enabled and name in ALL_LAYERS:
            rep[name] = LayerReport(active=False, detail="disabled in SandboxConfig.layers")
        else:
            rep[name] = LayerReport(active=active, detail=detail)

    iso_err = probe.iso_error
    add("session", not iso_err, "own session and process group per candidate")
    add("rlimits", not iso_err, "address space, CPU, file size, open files, core=0, nproc")
    ns_ok, ns_note = notes.get("netns", (False, "not attempted"))
    add("namespaces", ns_ok and checks.get("netifs", ["?"]) in ([], ["lo"]), ns_note)
    tmp_ok, tmp_note = notes.get("scratch_tmpfs", (False, "not attempted"))
    rep["scratch_tmpfs"] = LayerReport(active=tmp_ok, detail=tmp_note)
    pid_ok, pid_note = notes.get("pidns", (False, "not attempted"))
    add("pidns", pid_ok and probe.pidns and probe.server_pid == 1, pid_note)
    proc_ok, proc_note = notes.get("proc", (False, "no private /proc"))
    rep["private_proc"] = LayerReport(active=proc_ok, detail=proc_note)
    view_ok, view_note = notes.get("fs_view", (False, "not attempted"))
    blocked = all(str(checks.get(k, "")).startswith("blocked") for k in ("server_root", "home"))
    add("fs_view", view_ok and blocked, view_note if blocked else f"{view_note}; but a child sees host files")
    cg_ok, cg_note = notes.get("pids_cgroup", (False, "not attempted"))
    add("cgroup", cg_ok, cg_note)
    uid_ok, uid_note = notes.get("uid", (False, "not attempted"))
    add("uid", uid_ok and checks.get("uid", 0) != 0, uid_note)
    ll_ok, ll_note = notes.get("landlock", (False, "not attempted"))
    add("landlock", ll_ok and str(checks.get("write_outside", "")).startswith("blocked"), ll_note)
    sc_ok, sc_note = notes.get("seccomp", (False, "not attempted"))
    add("seccomp", sc_ok and checks.get("seccomp_mode") == "2", sc_note)
    net_blocked = str(checks.get("inet_socket", "")).startswith("blocked")
    rep["network"] = LayerReport(
        active=net_blocked, detail=f"AF_INET socket from a child: {checks.get('inet_socket', '?')}"
    )
    if iso_err:
        rep["probe"] = LayerReport(active=False, detail=f"isolation failed in the probe child: {iso_err}")
    for name, lang in registry().items():
        ok, detail = lang.available()
        rep[f"lang:{name}"] = LayerReport(active=ok, detail=f"{detail}; styles: {'/'.join(lang.styles)}")
    return rep
