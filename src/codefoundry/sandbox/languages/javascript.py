"""JavaScript (node): stdio, and function style through a small harness appended to the candidate."""

from __future__ import annotations

import json
import re

from codefoundry.sandbox.api import ExecRequest
from codefoundry.sandbox.languages.base import Language

# Converts the return value to plain data by exact type (plain objects and arrays only), the same tags as
# plaindata.py, and writes one result line per test on fd 3.
HARNESS = r"""
;(function () {
  const fs = require("fs");
  const job = JSON.parse(fs.readFileSync(0, "utf8"));
  let fn;
  try { fn = eval(__ENTRY__); } catch (e) { fn = undefined; }
  if (typeof fn !== "function" && typeof module !== "undefined" && module.exports) fn = module.exports[__ENTRY__];
  function tagIn(v) {
    if (Array.isArray(v)) return v.map(tagIn);
    if (v !== null && typeof v === "object") {
      const ks = Object.keys(v);
      if (ks.length === 1 && ks[0] === "__float__") return Number(v.__float__ === "nan" ? NaN : v.__float__ === "inf" ? Infinity : -Infinity);
      const o = {}; for (const k of ks) o[k] = tagIn(v[k]); return o;
    }
    return v;
  }
  function plain(v, d) {
    if (d > 200) throw new Error("nesting too deep");
    if (v === null || v === undefined) return null;
    const t = typeof v;
    if (t === "boolean" || t === "string") return v;
    if (t === "number") {
      if (Number.isNaN(v)) return {"__float__": "nan"};
      if (!Number.isFinite(v)) return {"__float__": v > 0 ? "inf" : "-inf"};
      return v;
    }
    if (t === "bigint") return {"__int__": (v < 0n ? "-0x" + (-v).toString(16) : "0x" + v.toString(16))};
    if (Array.isArray(v) && Object.getPrototypeOf(v) === Array.prototype) return v.map((x) => plain(x, d + 1));
    if (t === "object" && Object.getPrototypeOf(v) === Object.prototype) {
      const o = {}; for (const k of Object.keys(v)) o[k] = plain(v[k], d + 1); return o;
    }
    throw new TypeError("unserialisable result of type " + (v && v.constructor ? v.constructor.name : t));
  }
  const send = (m) => fs.writeSync(3, JSON.stringify(m) + "\n");
  for (let k = 0; k < job.tests.length; k++) {
    const idx = job.first + k;
    if (typeof fn !== "function") { send({e: "r", i: idx, st: "runtime_error", err: "NameError: entry point " + __ENTRY__ + " is not defined"}); continue; }
    const args = tagIn(JSON.parse(job.tests[k]));
    const t0 = process.hrtime.bigint();
    let value;
    try { value = fn(...args); } catch (e) {
      send({e: "r", i: idx, st: (e instanceof RangeError && /memory/i.test(String(e.message))) ? "memory_limit" : "runtime_error",
            err: (e && e.name ? e.name : "Error") + ": " + (e && e.message !== undefined ? e.message : String(e))});
      continue;
    }
    let text;
    try { text = JSON.stringify(plain(value, 0)); } catch (e) { send({e: "r", i: idx, st: "runtime_error", err: "unserialisable result: " + e.message}); continue; }
    if (text.length > job.cap) { send({e: "r", i: idx, st: "output_limit", err: "result too large"}); continue; }
    send({e: "r", i: idx, st: "ok", v: text, t: Number(process.hrtime.bigint() - t0) / 1e9});
  }
})();
"""

_IDENT = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")


class JavaScript(Language):
    def program(self, request: ExecRequest) -> str:
        if request.style != "function":
            return request.code
        entry = request.entry_point if _IDENT.match(request.entry_point or "") else "__missing__"
        return request.code + "\n" + HARNESS.replace("__ENTRY__", json.dumps(entry))


LANGUAGE = JavaScript(
    name="javascript",
    styles=("function", "stdio"),
    toolchain=("node",),
    source="main.js",
    run=("node", "--max-old-space-size={mem}", "--stack-size=4096", "{src}"),
    as_mode="none",  # V8 reserves far more address space than it uses; its heap is capped by the flag
    notes="function style: top-level function named entry_point, plain return values (BigInt ok)",
)
