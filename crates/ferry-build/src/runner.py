"""ferry's PEP 517 hook runner: runs one build-backend hook in this interpreter.

Usage: python runner.py HOOK CONTROL_DIR

CONTROL_DIR/input.json holds {"backend": "module:object", "backend_path": [...],
"kwargs": {...}}. The answer goes to CONTROL_DIR/output.json:
  {"return": VALUE}          the hook ran and returned VALUE
  {"unsupported": true}      the backend has no such (optional) hook
  {"unavailable": MESSAGE}   the backend could not be imported
A hook that raises prints its traceback on stderr and exits with status 1. Whatever the
backend prints goes to this process's stdout and stderr, which ferry captures.
Works on every Python 3 that ferry supports (no f-strings, no walrus).
"""

import importlib
import json
import os
import sys
import traceback


def _write(control, answer):
    path = os.path.join(control, "output.json")
    with open(path + ".tmp", "w") as f:
        json.dump(answer, f)
    os.replace(path + ".tmp", path)


def _load(spec, backend_path):
    roots = [os.path.abspath(p) for p in backend_path]
    # PEP 517: in-tree backend directories come first on sys.path.
    sys.path[:0] = roots
    module_name, _, attribute = spec.partition(":")
    backend = importlib.import_module(module_name.strip())
    if roots:
        origin = os.path.abspath(getattr(backend, "__file__", "") or "")
        if not any(origin == r or origin.startswith(r + os.sep) for r in roots):
            raise ImportError(
                "backend %r was found at %s, outside its backend-path %s"
                % (spec, origin, roots)
            )
    for part in attribute.strip().split("."):
        if part:
            backend = getattr(backend, part)
    return backend


def main():
    hook, control = sys.argv[1], sys.argv[2]
    with open(os.path.join(control, "input.json")) as f:
        request = json.load(f)
    try:
        backend = _load(request["backend"], request.get("backend_path") or [])
    except Exception:
        _write(control, {"unavailable": traceback.format_exc()})
        return 0
    function = getattr(backend, hook, None)
    if function is None:
        _write(control, {"unsupported": True})
        return 0
    try:
        value = function(**request["kwargs"])
    except Exception:
        traceback.print_exc()
        sys.stderr.flush()
        return 1
    _write(control, {"return": value})
    return 0


if __name__ == "__main__":
    sys.exit(main())
