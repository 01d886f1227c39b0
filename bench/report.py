"""Turns hyperfine's JSON exports and peak-memory files into the BENCHMARKS.md table.

usage: report.py RESULTS_DIR COMMIT COMMAND PYTHON
"""
import json
import os
import platform
import sys


def main():
    results, commit, command, python = sys.argv[1:5]
    rows = []
    for name in sorted(os.listdir(results)):
        if not name.endswith(".json"):
            continue
        scenario = name[:-5]
        data = json.load(open(os.path.join(results, name)))
        medians = {r["command"]: r["median"] for r in data["results"]}
        peaks = {}
        mem_path = os.path.join(results, scenario + ".mem")
        if os.path.exists(mem_path):
            for line in open(mem_path):
                parts = line.split()
                if len(parts) == 2 and parts[1].isdigit():
                    peaks.setdefault(parts[0], []).append(int(parts[1]))
        memory = {tool: sorted(values)[len(values) // 2] for tool, values in peaks.items()}
        ferry = medians["ferry"]

        def ratio(tool):
            return "%.2f" % (ferry / medians[tool]) if tool in medians else "n/a"

        def mem(tool):
            return "%.1f MiB" % (memory[tool] / 1024) if tool in memory else "n/a"

        rows.append(
            "| %s | %s | %s | %s | %s | %s |"
            % (scenario, ratio("uv"), ratio("pip"), mem("ferry"), mem("uv"), mem("pip"))
        )
    header = [
        "Measured at commit `%s` on %s (%d cores), %s, with `%s`."
        % (commit, platform.machine(), os.cpu_count() or 0, os.path.basename(python), command),
        "Ratios are ferry's median wall time divided by the other tool's (below 1.00 means ferry is faster);",
        "memory is the median of a few runs' peak RSS. The \"pip\" column for `venv` is `python -m venv --without-pip`.",
        "",
        "| scenario | ferry ÷ uv | ferry ÷ pip | ferry peak RSS | uv peak RSS | pip peak RSS |",
        "|---|---|---|---|---|---|",
    ]
    notes = [
        "",
        "For `index-pages-jupyter-cold` the uv column is `uv pip compile jupyter.in --no-cache` (a whole",
        "cold resolution); ferry only fetches and parses the 91 pages, and must not be slower than that.",
        "`compile-jupyter-*` compare `ferry compile` with `uv pip compile` on jupyter.in: cold with both",
        "caches removed before each run, warm with both caches filled. The proxy here sends no caching",
        "headers, so even warm runs fetch every index page; metadata comes from the caches.",
        "Caches and venvs are on a tmpfs (/dev/shm): on ext4, emptying a cache right before a cold",
        "run slowed the run's file creation (the inode allocator's recently_deleted()) more with each",
        "run, which made earlier tables (before this note) measure the filesystem more than the tools.",
        "`install-SET-*` install the pinned `bench/requirements/SET.txt` into a new venv per run",
        "(`ferry install -r`, `uv pip install -r`, `pip --python VENV install -r`): cold with all three",
        "caches removed before each run, warm with the caches full. Fewer runs (--install-runs), since",
        "pip takes tens of seconds; the network to the index is shared and noisy, so cold ratios vary.",
        "`huge-wheel-SIZE` installs one generated wheel of SIZE MiB (incompressible, stored) from a",
        "find-links page served by `python -m http.server` on 127.0.0.1 (no hashes, no PEP 658",
        "metadata, no byte ranges) into a fresh venv with empty caches, three runs each (one run",
        "alone was noise: 0.84x uv over five runs read 1.31x from one): peak RSS must not grow with the wheel.",
    ]
    notes += [
        "`build-sdists-*` install `bench/requirements/sdists.txt` with `--no-binary :all:` into a new",
        "venv (cold: all caches removed before each run; warm: build caches full). All three apply",
        "`--no-binary :all:` to build requirements too, so setuptools and friends are built as well.",
        "`editable-install` is `install -e` of a small setuptools project into a new venv with warm",
        "caches, its pyproject.toml touched before each run so every tool builds its editable again.",
        "`git-install-warm` installs `git+file://REPO@COMMIT#egg=gitdemo` (a small setuptools project in",
        "a local repository) into a new venv with warm caches: ferry neither clones nor fetches and",
        "takes the wheel from its build cache; pip clones and builds every time.",
        "`install-jupyter-lock-warm` installs a PEP 751 lock of jupyter.txt (`ferry lock`) with",
        "`--offline` into a new venv, caches warm, against `uv pip install -r jupyter.txt` (warm);",
        "its pip column is `cp -al` of the finished environment, not pip.",
        "`download-web-*` is `ferry download -r web.txt` against `pip download -r web.txt` into an",
        "empty directory (uv has no download command): cold with both caches emptied, warm with them",
        "full.",
    ]
    extras = []
    hooks = os.path.join(results, "build-sdists-warm.hooks")
    if os.path.exists(hooks):
        extras.append("backend hooks ferry ran in a warm `build-sdists` install: %s" % open(hooks).read().strip())
    listing = os.path.join(results, "cache-list.json")
    if os.path.exists(listing):
        median = json.load(open(listing))["results"][0]["median"]
        extras.append("`ferry cache list` on a cache holding the three install sets: %.1f ms (target: under 200 ms)" % (median * 1000))
    fetches = os.path.join(results, "git-install-warm.fetches")
    if os.path.exists(fetches):
        extras.append("git clones, fetches and ls-remotes ferry ran in a warm `git-install-warm` install: %s" % open(fetches).read().strip())
    env_ms = os.path.join(results, "build-env-warm.ms")
    if os.path.exists(env_ms) and open(env_ms).read().strip():
        extras.append("a warm isolated build environment (venv plus setuptools linked from the store): %s ms" % open(env_ms).read().strip())
    if extras:
        notes += [""] + ["- " + e for e in extras]
    parse = os.path.join(results, "parse.txt")
    if os.path.exists(parse):
        p = json.load(open(parse))
        notes += [
            "",
            "| page parse | files | size | median |",
            "|---|---|---|---|",
            "| %s HTML | %d | %.2f MB | %.1f ms |" % (p["project"], p["files"], p["html_bytes"] / 1e6, p["html_median_ms"]),
            "| %s JSON%s | %d | %.2f MB | %.1f ms |"
            % (
                p["project"],
                " (built from the HTML: the proxy here answers HTML)" if p["json_synthesized"] else "",
                p["files"],
                p["json_bytes"] / 1e6,
                p["json_median_ms"],
            ),
        ]
    print("\n".join(header + rows + notes))


main()
