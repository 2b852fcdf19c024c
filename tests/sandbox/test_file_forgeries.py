"""File-reading forgeries: candidates that look up expected outputs or secrets instead of computing them.

A candidate that can read a task file, a run directory, another process's ``/proc`` entries, a
world-readable secret or the expected outputs in its own memory can pass without solving anything. Each
forgery here must fail in the sandbox and find nothing. Each is also run as a plain process of the test (or,
for memory, against the protocol's own objects), where it must succeed: so a pass here means the sandbox
stopped it, not that the forgery was broken.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from codefoundry.pipeline.rundir import RunDir
from codefoundry.sandbox import ExecRequest, Limits, Sandbox, SandboxConfig, TestInput
from codefoundry.sandbox.api import ExecResult, TestVerdict
from codefoundry.sandbox.cache import ResultCache, request_key
from codefoundry.sandbox.languages import get_language
from codefoundry.sandbox.plaindata import dumps_plain
from codefoundry.sandbox.protocol import EarlyStop, RunLimits, RunRequest

# the uid switch, the private /proc and the pid namespace all need root: without them a child can read
# whatever the test process can, and these forgeries would rightly succeed
ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="the uid, pidns and /proc layers need root")

# where a candidate would look for a task file: common roots, then wherever it happens to run
WALK_ROOTS = ["/tmp", "/home", "/root", "/srv", "/mnt", "/var", "/work", "/opt", "."]
LIMITS = Limits(time_s=20, per_test_time_s=10, cpu_s=20, output_kb=2048)
PLAIN_TIMEOUT_S = 120

# ---------------------------------------------------------------------------------------------------------
# Candidates. The hunters share one protocol: MARKER, MODE ("answer" or "report"), X, then PLACES (files
# read as they are, directories walked breadth-first to depth 6, hidden ones, /proc, /sys and /dev skipped,
# at most 200,000 entries). "answer" returns the expected output of the task-file test whose input equals
# the candidate's own; "report" returns the paths of every file read that holds the marker.
# ---------------------------------------------------------------------------------------------------------

HUNT_PY = """
import json, os

EXTS = (".json", ".jsonl", ".sqlite", ".sqlite-wal")


def _read(path):
    try:
        if not os.path.isfile(path) or os.path.getsize(path) > 1 << 20:
            return None
        with open(path, "rb") as fh:
            return fh.read().decode("utf-8", "replace")
    except OSError:
        return None


def _hunt(marker, places, max_depth=6, max_entries=200_000):
    found = {}
    level = []
    for place in places:
        if os.path.isdir(place):
            level.append((place, 0))
        else:
            text = _read(place)
            if text is not None and marker in text:
                found[place] = text
    seen = 0
    while level and seen < max_entries:
        deeper = []
        for top, depth in level:
            if top in ("/proc", "/sys", "/dev"):
                continue
            try:
                with os.scandir(top) as it:
                    entries = list(it)
            except OSError:
                continue
            for entry in entries:
                seen += 1
                try:
                    if entry.is_dir(follow_symlinks=False):
                        if not entry.name.startswith(".") and depth + 1 < max_depth:
                            deeper.append((entry.path, depth + 1))
                    elif entry.name.endswith(EXTS) and entry.is_file(follow_symlinks=False):
                        text = _read(entry.path)
                        if text is not None and marker in text:
                            found[entry.path] = text
                except OSError:
                    pass
        level = deeper
    return found


def _answer(found, field, key):
    for text in found.values():
        docs = []
        try:
            docs.append(json.loads(text))
        except ValueError:
            for line in text.splitlines():
                try:
                    docs.append(json.loads(line))
                except ValueError:
                    pass
        for doc in docs:
            for test in (doc.get("tests") or []) if isinstance(doc, dict) else []:
                if isinstance(test, dict) and test.get(field) == key and "expected" in test:
                    return True, test["expected"]
    return False, None
"""

HUNT_PY_FUNCTION = (
    HUNT_PY
    + """

def f(marker, mode, x, places):
    found = _hunt(marker, places)
    if mode == "report":
        return sorted(found)
    ok, value = _answer(found, "args", [marker, mode, x, places])
    return value if ok else "nothing"
"""
)

HUNT_PY_STDIO = (
    HUNT_PY
    + """
import sys

data = sys.stdin.read()
lines = data.split("\\n")
found = _hunt(lines[0], [p for p in lines[3:] if p])
if lines[1] == "report":
    print("\\n".join(sorted(found)))
else:
    ok, value = _answer(found, "stdin", data)
    print(value if ok else "nothing", end="" if ok else "\\n")
"""
)

HUNT_CPP = r"""
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace fs = std::filesystem;

static bool read_small(const fs::path& p, std::string& out) {
    std::error_code ec;
    if (!fs::is_regular_file(p, ec) || ec) return false;
    auto size = fs::file_size(p, ec);
    if (ec || size > (1u << 20)) return false;
    std::ifstream in(p, std::ios::binary);
    if (!in) return false;
    std::ostringstream ss;
    ss << in.rdbuf();
    out = ss.str();
    return true;
}

static bool wanted(const std::string& name) {
    for (std::string ext : {".json", ".jsonl", ".sqlite", ".sqlite-wal"})
        if (name.size() >= ext.size() && name.compare(name.size() - ext.size(), ext.size(), ext) == 0)
            return true;
    return false;
}

static std::string escape(const std::string& s) {
    std::string o;
    for (char c : s) {
        if (c == '\\') o += "\\\\";
        else if (c == '"') o += "\\\"";
        else if (c == '\n') o += "\\n";
        else o += c;
    }
    return o;
}

static std::string unescape_until_quote(const std::string& s, size_t i) {
    std::string o;
    while (i < s.size() && s[i] != '"') {
        if (s[i] == '\\' && i + 1 < s.size()) {
            char n = s[i + 1];
            o += n == 'n' ? '\n' : n == 't' ? '\t' : n;
            i += 2;
        } else {
            o += s[i++];
        }
    }
    return o;
}

int main() {
    std::string data((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    std::vector<std::string> lines;
    {
        std::istringstream ls(data);
        std::string l;
        while (std::getline(ls, l)) lines.push_back(l);
    }
    if (lines.size() < 3) return 1;
    const std::string marker = lines[0], mode = lines[1], esc = escape(data);
    const std::string keys[] = {"\"stdin\": \"" + esc + "\", \"expected\": \"",
                                "\"stdin\":\"" + esc + "\",\"expected\":\""};
    std::vector<std::string> hits;
    std::string answer;
    bool have = false;
    auto consider = [&](const fs::path& p) {
        std::string text;
        if (!read_small(p, text) || text.find(marker) == std::string::npos) return;
        hits.push_back(p.string());
        for (const auto& key : keys) {
            size_t at = text.find(key);
            if (!have && at != std::string::npos) {
                answer = unescape_until_quote(text, at + key.size());
                have = true;
            }
        }
    };
    std::vector<std::pair<fs::path, int>> level;
    for (size_t i = 3; i < lines.size(); ++i) {
        if (lines[i].empty()) continue;
        std::error_code ec;
        if (fs::is_directory(lines[i], ec)) level.emplace_back(lines[i], 0);
        else consider(lines[i]);
    }
    long seen = 0;
    while (!level.empty() && seen < 200000) {
        std::vector<std::pair<fs::path, int>> deeper;
        for (const auto& [dir, depth] : level) {
            if (dir == "/proc" || dir == "/sys" || dir == "/dev") continue;
            std::error_code ec;
            fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
            for (; !ec && it != end; it.increment(ec)) {
                ++seen;
                const fs::path p = it->path();
                const std::string name = p.filename().string();
                std::error_code e2;
                fs::file_status st = it->symlink_status(e2);
                if (e2) continue;
                if (fs::is_directory(st)) {
                    if (!name.empty() && name[0] != '.' && depth + 1 < 6) deeper.emplace_back(p, depth + 1);
                } else if (fs::is_regular_file(st) && wanted(name)) {
                    consider(p);
                }
            }
        }
        level.swap(deeper);
    }
    if (mode == "report") {
        for (const auto& h : hits) std::cout << h << '\n';
    } else {
        std::cout << (have ? answer : std::string("nothing\n"));
    }
    return 0;
}
"""

HUNT_GO = r"""
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

type doc struct {
	Tests []struct {
		Stdin    *string         `json:"stdin"`
		Expected json.RawMessage `json:"expected"`
	} `json:"tests"`
}

var errEnough = errors.New("enough")

func wanted(name string) bool {
	for _, ext := range []string{".json", ".jsonl", ".sqlite", ".sqlite-wal"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

func main() {
	raw, _ := io.ReadAll(os.Stdin)
	data := string(raw)
	lines := strings.Split(data, "\n")
	if len(lines) < 4 {
		os.Exit(1)
	}
	marker, mode := lines[0], lines[1]
	var hits []string
	answer, have := "", false
	consider := func(p string) {
		info, err := os.Stat(p)
		if err != nil || !info.Mode().IsRegular() || info.Size() > 1<<20 {
			return
		}
		b, err := os.ReadFile(p)
		if err != nil || !strings.Contains(string(b), marker) {
			return
		}
		hits = append(hits, p)
		var d doc
		if json.Unmarshal(b, &d) != nil {
			return
		}
		for _, t := range d.Tests {
			var exp string
			if !have && t.Stdin != nil && *t.Stdin == data && json.Unmarshal(t.Expected, &exp) == nil {
				answer, have = exp, true
			}
		}
	}
	seen := 0
	for _, place := range lines[3:] {
		if place == "" {
			continue
		}
		info, err := os.Stat(place)
		if err != nil {
			continue
		}
		if !info.IsDir() {
			consider(place)
			continue
		}
		base := strings.Count(filepath.Clean(place), "/")
		err = filepath.WalkDir(place, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			seen++
			if seen > 200000 {
				return errEnough
			}
			if d.IsDir() {
				if p == "/proc" || p == "/sys" || p == "/dev" {
					return fs.SkipDir
				}
				if p != place && (strings.HasPrefix(d.Name(), ".") || strings.Count(p, "/")-base >= 6) {
					return fs.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() && wanted(d.Name()) {
				consider(p)
			}
			return nil
		})
		if errors.Is(err, errEnough) {
			break
		}
	}
	if mode == "report" {
		for _, h := range hits {
			fmt.Println(h)
		}
	} else if have {
		fmt.Print(answer)
	} else {
		fmt.Println("nothing")
	}
}
"""

# Globbing for world-readable files: the first 256 bytes of every small regular file in DIR/*/*.
PEEK_PY = """
import glob, os


def _peek(dirs, limit=2000):
    out = []
    for d in dirs:
        for path in sorted(glob.glob(os.path.join(d, "*", "*"))):
            if len(out) >= limit:
                return out
            try:
                if os.path.isfile(path) and os.path.getsize(path) <= 1 << 16:
                    with open(path, "rb") as fh:
                        out.append([path, fh.read(256).decode("utf-8", "replace")])
            except OSError:
                pass
    return out
"""

PEEK_PY_FUNCTION = PEEK_PY + "\n\ndef f(dirs):\n    return _peek(dirs)\n"

PEEK_PY_STDIO = (
    PEEK_PY
    + """
import json, sys

for path, head in _peek(sys.stdin.read().split()):
    print(path + "\\t" + json.dumps(head))
"""
)

PEEK_CPP = r"""
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

namespace fs = std::filesystem;

int main() {
    std::string dir;
    long count = 0;
    const fs::directory_iterator end;
    while (std::getline(std::cin, dir) && count < 2000) {
        if (dir.empty()) continue;
        std::error_code ec;
        for (fs::directory_iterator a(dir, fs::directory_options::skip_permission_denied, ec); !ec && a != end;
             a.increment(ec)) {
            std::error_code e2;
            if (!a->is_directory(e2) || e2) continue;
            for (fs::directory_iterator b(a->path(), fs::directory_options::skip_permission_denied, e2);
                 !e2 && b != end && count < 2000; b.increment(e2)) {
                std::error_code e3;
                if (!b->is_regular_file(e3) || e3 || b->file_size(e3) > 65536 || e3) continue;
                std::ifstream in(b->path(), std::ios::binary);
                if (!in) continue;
                char buf[256];
                in.read(buf, sizeof buf);
                std::string head(buf, static_cast<size_t>(in.gcount()));
                for (char& c : head)
                    if (c < 32 || c > 126) c = '?';
                std::cout << b->path().string() << '\t' << head << '\n';
                ++count;
            }
        }
    }
    return 0;
}
"""

# /proc: other processes' environment, command line, open files, memory, working and root directories.
# Returns the labels it could read and, per label, what matched a secret's known shape (never raw data).
PROC_PY = """
import glob, os, re, stat

SHAPE = re.compile(rb"CF_SECRET_TOKEN=[^\\x00]*|cf-secret-[0-9a-f]{8,}")


def _read(path, cap=1 << 20):
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError:
        return None
    try:
        return os.read(fd, cap)
    except OSError:
        return None
    finally:
        os.close(fd)


def _memory(pid, budget=64 << 20):
    try:
        with open(f"/proc/{pid}/maps") as fh:
            maps = fh.read().splitlines()
        mem = open(f"/proc/{pid}/mem", "rb", buffering=0)
    except OSError:
        return None
    parts = []
    with mem:
        for line in maps:
            fields = line.split()
            if len(fields) < 2 or not fields[1].startswith("rw"):
                continue
            lo, hi = (int(v, 16) for v in fields[0].split("-"))
            while lo < hi and budget > 0:
                n = min(hi - lo, 4 << 20, budget)
                try:
                    mem.seek(lo)
                    chunk = mem.read(n)
                except (OSError, ValueError, OverflowError):
                    break
                if not chunk:
                    break
                budget -= n
                lo += n
                parts.extend(m.group(0)[:96] for m in SHAPE.finditer(chunk))
    return b"\\n".join(parts[:50])


def f(pids, paths, every_pid):
    me = str(os.getpid())
    targets = [str(p) for p in pids] + ["1"]
    if every_pid:
        targets += sorted(os.path.basename(p) for p in glob.glob("/proc/[0-9]*"))
    readable, hits = [], {}

    def note(label, data):
        if data is None:
            return
        readable.append(label)
        found = [m.group(0)[:96].decode("latin-1") for m in SHAPE.finditer(data)]
        if found:
            hits[label] = found[:20]

    for t in dict.fromkeys(targets):
        base = f"/proc/{t}"
        for name in ("environ", "cmdline"):
            note(f"{base}/{name}", _read(f"{base}/{name}"))
        note(f"{base}/mem", _memory(t))
        try:
            fds = os.listdir(f"{base}/fd")
        except OSError:
            fds = []
        for fd in fds:
            note(f"{base}/fd/{fd}", _read(f"{base}/fd/{fd}"))
        if t == me:
            continue  # its own cwd and root are what it can read directly
        try:
            names = os.listdir(f"{base}/cwd")
        except OSError:
            names = None
        if names is not None:
            note(f"{base}/cwd", "\\n".join(names).encode())
            for name in names:
                if name.endswith(".json"):
                    note(f"{base}/cwd/{name}", _read(f"{base}/cwd/{name}"))
        for path in paths:
            note(f"{base}/root{path}", _read(f"{base}/root{path}"))
    for name in ("environ", "cmdline"):
        note(f"/proc/self/{name}", _read(f"/proc/self/{name}"))
    return {"readable": readable, "hits": hits}
"""

# Memory: the stack the child was forked on, and the heap it inherited, searched for expected outputs
# (the early-stop data a fork-server holds while it runs the candidate).
MEMORY_PY = """
import gc, json, sys


def _leaks():
    holders = []
    frame = sys._getframe()
    while frame is not None:
        holders.extend(frame.f_locals.values())
        frame = frame.f_back
    holders.extend(o for o in gc.get_objects() if type(o).__name__ in ("RunRequest", "EarlyStop", "EarlyJudge"))
    pairs = []
    for h in holders:
        tests = getattr(h, "tests", None)
        for source in (h, getattr(h, "early_stop", None), getattr(h, "early", None)):
            expected = getattr(source, "expected", None)
            if isinstance(expected, list):
                pairs.append((tests if isinstance(tests, list) else None, expected))
    return pairs


def _lookup(matches):
    pairs = _leaks()
    for tests, expected in pairs:
        for i, test in enumerate(tests or []):
            try:
                if matches(test) and i < len(expected) and expected[i] is not None:
                    return expected[i], pairs
            except Exception:
                pass
    return None, pairs
"""

MEMORY_PY_FUNCTION = (
    MEMORY_PY
    + """

def f(x):
    found, pairs = _lookup(lambda t: json.loads(t) == [x])
    if found is not None:
        return json.loads(found)
    return "nothing: " + repr([e for _, e in pairs])[:4000]
"""
)

MEMORY_PY_STDIO = (
    MEMORY_PY
    + """
data = sys.stdin.read()
found, pairs = _lookup(lambda t: t == data)
print(found if found is not None else "nothing: " + repr([e for _, e in pairs])[:4000], end="")
"""
)

FUNCTION_DRIVER = "\n\nimport json as _json, sys as _sys\nprint(_json.dumps(f(*_json.loads(_sys.argv[1]))))\n"


@dataclass(frozen=True)
class Variant:
    """One forgery in one language and style."""

    name: str
    language: str
    style: str  # "function" | "stdio"
    code: str

    def request(self, plans: list[Any], expected: list[Any] | None = None, **kw: Any) -> ExecRequest:
        """Judge mode when expected outputs are given, collect mode otherwise."""
        tests = []
        for i, plan in enumerate(plans):
            exp = None if expected is None else expected[i]
            if self.style == "function":
                tests.append(TestInput(args=plan, expected=exp, has_expected=expected is not None))
            else:
                tests.append(TestInput(stdin=plan, expected=exp, has_expected=expected is not None))
        return ExecRequest(
            language=self.language,
            style=self.style,
            code=self.code,
            entry_point="f" if self.style == "function" else "",
            tests=tests,
            limits=kw.pop("limits", LIMITS),
            mode="collect" if expected is None else "judge",
            **kw,
        )

    def hunt_plan(self, marker: str, mode: str, x: int, places: list[str]) -> Any:
        """The hunters' input: arguments (function) or stdin text (stdio)."""
        if self.style == "function":
            return [marker, mode, x, places]
        return "".join(f"{line}\n" for line in [marker, mode, str(x), *places])

    def task_test(self, plan: Any, expected: int) -> dict[str, Any]:
        """A task-file test as ``sandbox judge`` reads it."""
        if self.style == "function":
            return {"args": plan, "expected": expected}
        return {"stdin": plan, "expected": f"{expected}\n"}

    def answered(self, output: Any, expected: int) -> bool:
        """Whether an output is the expected one, as the judge would compare it here."""
        return output == expected if self.style == "function" else output == f"{expected}\n"

    def reported(self, output: Any) -> list[str]:
        """The paths a hunter's report names."""
        if self.style == "function":
            return list(output or [])
        return [line for line in (output or "").splitlines() if line]


HUNTERS = [
    Variant("python-function", "python", "function", HUNT_PY_FUNCTION),
    Variant("python-stdio", "python", "stdio", HUNT_PY_STDIO),
    Variant("cpp", "cpp", "stdio", HUNT_CPP),
    Variant("go", "go", "stdio", HUNT_GO),
]
PEEKERS = [
    Variant("python-function", "python", "function", PEEK_PY_FUNCTION),
    Variant("python-stdio", "python", "stdio", PEEK_PY_STDIO),
    Variant("cpp", "cpp", "stdio", PEEK_CPP),
]


def new_marker() -> str:
    return f"cf-secret-{secrets.token_hex(12)}"


def new_expected() -> int:
    """An output no candidate computes by chance."""
    return random.SystemRandom().randrange(10**11, 10**12)


def need(language: str) -> None:
    ok, why = get_language(language).available()
    if not ok:
        pytest.skip(f"{language}: {why}")


def world_dir(parent: str) -> Path:
    """A fresh directory any uid may enter and list (0755)."""
    path = Path(tempfile.mkdtemp(prefix="cf-forgery-", dir=parent))
    path.chmod(0o755)
    return path


@pytest.fixture()
def plant(tmp_path: Path) -> Iterator[Callable[..., list[Path]]]:
    """Write a file (0644) under /tmp, /home, tmp_path and the working directory; all removed afterwards."""
    dirs: list[Path] = []
    files: list[Path] = []

    def _plant(
        name: str, text: str, where: tuple[str, ...] = ("tmp", "home", "tmp_path", "cwd")
    ) -> list[Path]:
        out = []
        for place in where:
            if place == "tmp":
                dirs.append(world_dir("/tmp"))
                path = dirs[-1] / name
            elif place == "home":
                dirs.append(world_dir("/home"))
                path = dirs[-1] / name
            elif place == "tmp_path":
                path = tmp_path / name
            else:
                path = Path.cwd() / f"cf-forgery-{secrets.token_hex(6)}-{name}"
            path.write_text(text, encoding="utf-8")
            path.chmod(0o644)
            files.append(path)
            out.append(path)
        return out

    yield _plant
    for path in files:
        path.unlink(missing_ok=True)
    for path in dirs:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture()
def scratch_world_dir() -> Iterator[Path]:
    """An empty 0755 directory under /tmp, so only what is created inside it decides who can read it."""
    path = world_dir("/tmp")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def native(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Variant], list[str]]:
    """The command that runs a variant as a plain process of the test (compiled once per module)."""
    built: dict[tuple[str, str], list[str]] = {}
    root = tmp_path_factory.mktemp("native")

    def argv(variant: Variant) -> list[str]:
        key = (variant.language, variant.code)
        if key in built:
            return built[key]
        if variant.language == "python":
            code = variant.code + (FUNCTION_DRIVER if variant.style == "function" else "")
            built[key] = [sys.executable, "-c", code]
            return built[key]
        tool = {"cpp": "g++", "go": "go"}[variant.language]
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not found")
        stem = root / f"{variant.language}-{len(built)}"
        binary = str(stem)
        if variant.language == "cpp":
            src = stem.with_suffix(".cpp")
            src.write_text(variant.code, encoding="utf-8")
            cmd, env = ["g++", "-O1", "-std=c++17", "-o", binary, str(src)], None
        else:
            src = stem.with_suffix(".go")
            src.write_text(variant.code, encoding="utf-8")
            cmd = ["go", "build", "-o", binary, str(src)]
            env = {**os.environ, "GO111MODULE": "off", "GOFLAGS": "", "CGO_ENABLED": "0"}
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=PLAIN_TIMEOUT_S, env=env)
        assert proc.returncode == 0, proc.stderr[-3000:]
        built[key] = [binary]
        return built[key]

    return argv


def plain(native: Callable[[Variant], list[str]], variant: Variant, plan: Any) -> Any:
    """Run a variant outside the sandbox, as the test's own user: what it finds when nothing stops it."""
    cmd = native(variant)
    if variant.style == "function":
        proc = subprocess.run(
            [*cmd, json.dumps(plan)], capture_output=True, text=True, timeout=PLAIN_TIMEOUT_S
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        return json.loads(proc.stdout)
    proc = subprocess.run(cmd, input=plan, capture_output=True, text=True, timeout=PLAIN_TIMEOUT_S)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def judge_and_report(
    sandbox: Sandbox, variant: Variant, answers: list[Any], expected: list[int], report: Any
) -> tuple[ExecResult, list[str]]:
    """Judge the answering candidate, and collect what the reporting one read, in one batch."""
    exp = [e if variant.style == "function" else f"{e}\n" for e in expected]
    judged, reported = sandbox.run_many([variant.request(answers, exp), variant.request([report])])
    assert reported.status == "ok", (reported.compile_output[-2000:], reported.verdicts)
    return judged, variant.reported(reported.verdicts[0].output)


def assert_forgery_failed(judged: ExecResult, read: list[str]) -> None:
    """Nothing read, and every test answered (so it ran) but wrongly."""
    assert read == [], f"the candidate read {read}"
    assert not judged.passed, f"the forgery passed: {judged.verdicts}"
    assert [v.status for v in judged.verdicts] == ["wrong_answer"] * len(judged.verdicts), (
        judged.compile_output[-2000:],
        judged.verdicts,
    )


# ---------------------------------------------------------------------------------------------------------
# 1. A task file (as `codefoundry sandbox judge` reads it) left where a candidate can walk to it.
# ---------------------------------------------------------------------------------------------------------


@ROOT_ONLY
@pytest.mark.parametrize("variant", HUNTERS, ids=lambda v: v.name)
def test_task_file_on_disk_is_out_of_reach(
    sandbox: Sandbox,
    plant: Callable[..., list[Path]],
    native: Callable[[Variant], list[str]],
    variant: Variant,
) -> None:
    """A walk of the usual roots (and the test's working directory) must not reach any copy of the task."""
    need(variant.language)
    marker = new_marker()
    # plus the test's working and temporary directories, wherever they are
    places = list(dict.fromkeys([*WALK_ROOTS, os.getcwd(), tempfile.gettempdir()]))
    xs = random.sample(range(1000), 2)
    expected = [new_expected() for _ in xs]
    answers = [variant.hunt_plan(marker, "answer", x, places) for x in xs]
    task = {
        "marker": marker,
        "tests": [variant.task_test(p, e) for p, e in zip(answers, expected, strict=True)],
    }
    planted = plant("task.json", json.dumps(task))
    report = variant.hunt_plan(marker, "report", -1, places)

    # control: as a plain process it finds every copy and the right answers
    found = {os.path.realpath(p) for p in variant.reported(plain(native, variant, report))}
    assert {str(p) for p in planted} <= found, found
    for plan, exp in zip(answers, expected, strict=True):
        assert variant.answered(plain(native, variant, plan), exp)

    judged, read = judge_and_report(sandbox, variant, answers, expected, report)
    assert_forgery_failed(judged, read)


# ---------------------------------------------------------------------------------------------------------
# 2. A run directory: shards and the execution cache hold every task's expected outputs.
# ---------------------------------------------------------------------------------------------------------


class _TaskRecord(BaseModel):
    marker: str
    tests: list[dict[str, Any]]


@ROOT_ONLY
@pytest.mark.parametrize("variant", HUNTERS[:3], ids=lambda v: v.name)
def test_run_directory_is_out_of_reach(
    sandbox: Sandbox, scratch_world_dir: Path, native: Callable[[Variant], list[str]], variant: Variant
) -> None:
    """Even given the exact paths of a shard and of the cache, under a parent anyone may enter."""
    need(variant.language)
    marker = new_marker()
    run = RunDir(scratch_world_dir / "run")
    run.create()
    shard = run.shard_path("04-label", "fp0123456789", 0)
    db = run.cache_dir / "executions.sqlite"
    places = [
        str(p) for p in (run.manifest_path, shard, db, Path(f"{db}-wal"), run.path / "stages", run.path)
    ]
    x, exp = random.randrange(1000), new_expected()
    answer = variant.hunt_plan(marker, "answer", x, places)
    run.commit_batch(
        "04-label",
        0,
        "batch-key",
        [_TaskRecord(marker=marker, tests=[variant.task_test(answer, exp)])],
        [],
        0.0,
        fingerprint="fp0123456789",
    )
    cache = ResultCache(db)
    honest = variant.request([answer], [exp if variant.style == "function" else f"{exp}\n"])
    cache.put(
        request_key(honest),
        ExecResult(
            status="pass", passed=True, verdicts=[TestVerdict(status="pass", output=exp)], stderr=marker
        ),
    )
    cache.close()
    report = variant.hunt_plan(marker, "report", -1, places)

    found = variant.reported(plain(native, variant, report))
    assert str(shard) in found and any(p.startswith(str(db)) for p in found), found
    assert variant.answered(plain(native, variant, answer), exp)

    judged, read = judge_and_report(sandbox, variant, [answer], [exp], report)
    assert_forgery_failed(judged, read)


# ---------------------------------------------------------------------------------------------------------
# 3. /proc: the supervisor's and other host processes' environment, arguments, open files and memory.
# ---------------------------------------------------------------------------------------------------------


@ROOT_ONLY
def test_proc_of_the_supervisor_and_host_processes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, plant: Callable[..., list[Path]]
) -> None:
    """The secret is in the supervisor's environment and memory, in a file it holds open, and in the
    environment and arguments of another host process; the candidate knows all their pids and paths."""
    marker = new_marker()
    monkeypatch.setenv("CF_SECRET_TOKEN", marker)  # before the fork-servers start
    held_path = tmp_path / "held-task.json"
    held_path.write_text(json.dumps({"marker": marker, "tests": [{"args": [1], "expected": 2}]}))
    world_path = plant("task.json", json.dumps({"marker": marker}), where=("tmp",))[0]
    helper = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(600)", marker],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "CF_SECRET_TOKEN": marker},
    )
    try:
        with open(held_path, "rb") as held:
            pids = [os.getpid(), helper.pid]
            paths = [str(held_path), str(world_path)]
            variant = Variant("proc", "python", "function", PROC_PY)

            # control: a plain process (no pid list beyond these two, so it reads nothing else of the host)
            control = plain(
                lambda v: [sys.executable, "-c", v.code + FUNCTION_DRIVER], variant, [pids, paths, False]
            )
            hits = control["hits"]
            me, other = pids
            for label in (
                f"/proc/{other}/environ",
                f"/proc/{other}/cmdline",
                f"/proc/{me}/fd/{held.fileno()}",
            ):
                assert marker in json.dumps(hits.get(label)), (label, sorted(hits))
            assert marker in json.dumps(hits.get(f"/proc/{me}/root{held_path}")), sorted(hits)

            with Sandbox(SandboxConfig(workers=1)) as sb:
                res = sb.run(variant.request([[pids, paths, True]]))
    finally:
        helper.kill()
        helper.wait()
    verdict = res.verdicts[0]
    assert verdict.status == "ok", verdict
    out = verdict.output
    leaked = sorted(label for label, found in out["hits"].items() if marker in json.dumps(found))
    assert marker not in json.dumps(out), (
        f"the candidate read the secret from {leaked}; readable: {out['readable']}"
    )


# ---------------------------------------------------------------------------------------------------------
# 4. A world-readable secret in someone's directory under /tmp or /home.
# ---------------------------------------------------------------------------------------------------------


@ROOT_ONLY
@pytest.mark.parametrize("variant", PEEKERS, ids=lambda v: v.name)
def test_world_readable_secret_is_out_of_reach(
    sandbox: Sandbox,
    plant: Callable[..., list[Path]],
    native: Callable[[Variant], list[str]],
    variant: Variant,
) -> None:
    """Files 0644 in 0755 directories: readable by every uid on the host, and still not by a candidate."""
    need(variant.language)
    marker = new_marker()
    planted = plant("secret.txt", f"{marker}\n", where=("tmp", "home"))
    dirs = ["/tmp", "/home"]
    plan = [dirs] if variant.style == "function" else "".join(f"{d}\n" for d in dirs)

    control = json.dumps(plain(native, variant, plan))
    assert all(str(p) in control for p in planted) and marker in control

    res = sandbox.run(variant.request([plan]))
    verdict = res.verdicts[0]
    assert verdict.status == "ok", (res.compile_output[-2000:], verdict)
    out = json.dumps(verdict.output)
    leaked = [str(p) for p in planted if str(p) in out]
    assert marker not in out, f"the candidate read the secret (listed: {leaked})"


# ---------------------------------------------------------------------------------------------------------
# 5. Memory: with stop_on_first_failure, expected outputs that reach the fork-server reach the child.
# ---------------------------------------------------------------------------------------------------------

MEMORY = {
    "function": Variant("python-function", "python", "function", MEMORY_PY_FUNCTION),
    "stdio": Variant("python-stdio", "python", "stdio", MEMORY_PY_STDIO),
}


def test_memory_forgery_works_against_the_protocol_objects() -> None:
    """Control: given a fork-server-like stack holding a real RunRequest, the memory candidate finds the answer."""
    if "early_stop" not in {f.name for f in dataclasses.fields(RunRequest)}:
        pytest.skip("the fork-server no longer receives expected outputs")
    variant = MEMORY["function"]
    xs = random.sample(range(1000), 2)
    expected = [new_expected() for _ in xs]
    req = RunRequest(
        language={},
        style="function",
        code=variant.code,
        program="",
        entry_point="f",
        tests=[dumps_plain([x]) for x in xs],
        limits=RunLimits.from_dict(Limits().model_dump()),
        stop_on_first_failure=True,
        early_stop=EarlyStop(
            expected=[dumps_plain(e) for e in expected], mode="exact", rel_tol=1e-6, abs_tol=1e-9
        ),
        build_cache="",
    )
    namespace: dict[str, Any] = {}
    exec(compile(variant.code, "solution", "exec"), namespace)

    def serve(req: RunRequest, x: int) -> Any:
        return namespace["f"](x)

    assert [serve(req, x) for x in xs] == expected


@pytest.mark.parametrize("style", list(MEMORY))
def test_expected_outputs_are_not_in_the_childs_memory_when_stopping_early(
    sandbox: Sandbox, style: str
) -> None:
    """The child is forked from a fork-server that holds the early-stop data; it must not find it."""
    variant = MEMORY[style]
    xs = random.sample(range(1000), 2)
    expected = [new_expected() for _ in xs]
    plans: list[Any] = [[x] for x in xs] if style == "function" else [f"{x}\n" for x in xs]
    exp = expected if style == "function" else [f"{e}\n" for e in expected]
    res = sandbox.run(variant.request(plans, exp, stop_on_first_failure=True))
    outputs = json.dumps([v.output for v in res.verdicts])
    leaked = [e for e in expected if str(e) in outputs]
    assert leaked == [], f"the candidate found expected outputs {leaked} in its memory: {res.verdicts}"
    assert not res.passed, res.verdicts
    assert res.verdicts[0].status == "wrong_answer", res.verdicts
