"""Hunter: find a task file by walking the usual roots and return its expected output.

A candidate program, read as text by the forgery tests (see ../forgeries_support.py); never imported.
The tests append the function or stdio entry point.
"""

import contextlib
import json
import os

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
                with contextlib.suppress(ValueError):
                    docs.append(json.loads(line))
        for doc in docs:
            for test in (doc.get("tests") or []) if isinstance(doc, dict) else []:
                if isinstance(test, dict) and test.get(field) == key and "expected" in test:
                    return True, test["expected"]
    return False, None
