#!/usr/bin/env bash
# Times ferry against uv and pip on this machine, in one run, and writes the ratios to
# docs/BENCHMARKS.md. Usage: bench/run.sh [--runs N] [--install-runs N] [--mem-runs N] [--only REGEX] [--no-write]
#
# Installs what it needs: hyperfine (from the system package manager, if missing) and the
# pinned comparison tools (bench/tools.txt) into a scratch venv under bench/.work/. Every
# tool uses the same interpreter and its own cache directory under bench/.work/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
invocation="bench/run.sh${*:+ $*}"
work="$root/bench/.work"
runs=30
install_runs=3
mem_runs=3
only=""
write=1
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --install-runs) install_runs=$2; shift 2 ;;
    --mem-runs) mem_runs=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --no-write) write=0; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

if ! command -v hyperfine >/dev/null 2>&1; then
  echo "installing hyperfine" >&2
  apt-get update -qq >/dev/null && apt-get install -y -qq hyperfine >/dev/null
fi
if [ ! -x /usr/bin/time ]; then
  apt-get update -qq >/dev/null && apt-get install -y -qq time >/dev/null
fi

python=${BENCH_PYTHON:-$(python3 -c 'import sys; print(sys.executable)')}
python=$("$python" -c 'import os, sys; print(os.path.realpath(sys.executable))')
echo "interpreter: $python ($("$python" -V 2>&1))" >&2

mkdir -p "$work"
if [ ! -x "$work/tools/bin/uv" ] || ! cmp -s bench/tools.txt "$work/tools/.pinned"; then
  echo "installing comparison tools from bench/tools.txt" >&2
  rm -rf "$work/tools"
  "$python" -m venv "$work/tools"
  "$work/tools/bin/python" -m pip install -q --disable-pip-version-check -r bench/tools.txt
  cp bench/tools.txt "$work/tools/.pinned"
fi
uv="$work/tools/bin/uv"
cargo build --release -q
ferry="$root/target/release/ferry"

# Caches and environments live on a tmpfs when there is one (BENCH_TMP overrides). On ext4, a
# cache emptied with `rm -rf` just before a cold run makes the next run's file creation slow:
# the inode allocator skips inodes deleted in the last minute or more (the kernel's
# recently_deleted(), found with perf), so consecutive cold runs got slower and slower (1.1 s,
# 1.9 s, 3.0 s for the same install) and the ratios measured the filesystem, not the tools.
fast=${BENCH_TMP:-/dev/shm/ferry-bench}
if ! mkdir -p "$fast" 2>/dev/null; then fast="$work"; fi
echo "caches and environments under $fast" >&2
export FERRY_CACHE_DIR="$fast/ferry-cache" UV_CACHE_DIR="$fast/uv-cache"
results="$work/results"
[ -z "$only" ] && rm -rf "$results"
mkdir -p "$results"
scratch="$fast/scratch"

# bench NAME -- CMD_FERRY -- CMD_UV -- CMD_PIP(or "") -- PREPARE
bench() {
  local name=$1 ferry_cmd=$2 uv_cmd=$3 pip_cmd=$4 prepare=$5 n=${6:-$runs} warmup=${7:-3}
  if [ -n "$only" ] && ! [[ $name =~ $only ]]; then return 0; fi
  # -N runs commands without a shell; the preparation may need one.
  local args=(--warmup "$warmup" --runs "$n" --prepare "bash -c '$prepare'" --export-json "$results/$name.json" -N)
  local cmds=(-n ferry "$ferry_cmd")
  [ -n "$uv_cmd" ] && cmds+=(-n uv "$uv_cmd")
  [ -n "$pip_cmd" ] && cmds+=(-n pip "$pip_cmd")
  hyperfine "${args[@]}" "${cmds[@]}" >&2
  # Peak memory (max RSS, KiB) of --mem-runs runs of each, after the same preparation; the
  # table shows each tool's median (one run's peak varied by 10-20 % for every tool).
  : > "$results/$name.mem"
  for tool in ferry uv pip; do
    local cmd
    case $tool in ferry) cmd=$ferry_cmd ;; uv) cmd=$uv_cmd ;; pip) cmd=$pip_cmd ;; esac
    [ -z "$cmd" ] && continue
    for _ in $(seq "$mem_runs"); do
      bash -c "$prepare"
      /usr/bin/time -f "$tool %M" -a -o "$results/$name.mem" bash -c "$cmd" >/dev/null 2>&1
    done
  done
}

mkdir -p "$scratch"
# 1. Creating a virtual environment (interpreter facts already cached by both tools).
"$ferry" venv -q "$scratch/warm" --python "$python" --clear
"$uv" venv -q "$scratch/warm" --python "$python" --clear
bench venv \
  "$ferry venv -q $scratch/v --python $python" \
  "$uv venv -q $scratch/v --python $python" \
  "$python -m venv --without-pip $scratch/v" \
  "rm -rf $scratch/v"

# 2. Index pages: fetch and parse the simple pages of the 91 projects of the pinned jupyter
# set with an empty cache, against uv resolving the same set cold (the bar issue 3 sets).
bench index-pages-jupyter-cold \
  "$ferry index pages -q -r bench/requirements/jupyter.txt --no-cache-dir --python $python" \
  "$uv pip compile -q bench/requirements/jupyter.in --no-cache --python $python -o /dev/null" \
  "" \
  "true"

# 3. Resolution of the jupyter set (jupyter.in, 91 packages): cold (empty caches) and warm.
bench compile-jupyter-cold \
  "$ferry compile -q bench/requirements/jupyter.in --python $python -o $scratch/ferry-jupyter.txt" \
  "$uv pip compile -q bench/requirements/jupyter.in --python $python -o $scratch/uv-jupyter.txt" \
  "" \
  "rm -rf $FERRY_CACHE_DIR $UV_CACHE_DIR"
if [ -z "$only" ] || [[ compile-jupyter-warm =~ $only ]]; then
  "$ferry" compile -q bench/requirements/jupyter.in --python "$python" -o "$scratch/ferry-jupyter.txt"
  "$uv" pip compile -q bench/requirements/jupyter.in --python "$python" -o "$scratch/uv-jupyter.txt"
fi
bench compile-jupyter-warm \
  "$ferry compile -q bench/requirements/jupyter.in --python $python -o $scratch/ferry-jupyter.txt" \
  "$uv pip compile -q bench/requirements/jupyter.in --python $python -o $scratch/uv-jupyter.txt" \
  "" \
  "true"

# 5. Installing the pinned sets into fresh environments: warm (every tool's cache already holds
# the wheels) and cold (every cache emptied, and the emptying flushed with `sync`, before each
# run: without it the previous run's hundreds of MB of writeback land on the next one, and
# consecutive cold runs got slower and slower for every tool). Each tool gets its own new venv
# per run, made in the preparation step; pip is the bench venv's pip driving it with --python.
export PIP_CACHE_DIR="$fast/pip-cache"
pip="$work/tools/bin/python -m pip --disable-pip-version-check"
fresh="rm -rf $scratch/fv $scratch/uvv $scratch/pv && $ferry venv -q $scratch/fv --python $python && $ferry venv -q $scratch/uvv --python $python && $ferry venv -q $scratch/pv --python $python"
for set in jupyter web science; do
  req="bench/requirements/$set.txt"
  ferry_install="$ferry install -q --python $scratch/fv -r $req"
  uv_install="$uv pip install -q --python $scratch/uvv -r $req"
  pip_install="$pip --python $scratch/pv/bin/python install -q -r $req"
  bench "install-$set-cold" "$ferry_install" "$uv_install" "$pip_install" \
    "$fresh && rm -rf $FERRY_CACHE_DIR $UV_CACHE_DIR $PIP_CACHE_DIR && sync" "$install_runs" 0
  if [ -z "$only" ] || [[ install-$set-warm =~ $only ]]; then
    bash -c "$fresh" && bash -c "$ferry_install" && bash -c "$uv_install" && bash -c "$pip_install" >/dev/null
  fi
  bench "install-$set-warm" "$ferry_install" "$uv_install" "$pip_install" "$fresh" "$install_runs" 1
done

# 11. Installing a PEP 751 lock of the jupyter set (`ferry lock -r jupyter.txt`) into a fresh
# venv with a warm cache and --offline (so no network request can be made), against uv's warm
# `uv pip install -r jupyter.txt`, and against `cp -al` of the finished environment (in the pip
# column). Targets: at most 0.5x uv, and at most 2x `cp -al`.
lockfile="$scratch/pylock.toml"
if [ -z "$only" ] || [[ install-jupyter-lock-warm =~ $only ]]; then
  "$ferry" lock -q -r bench/requirements/jupyter.txt --python "$python" -o "$lockfile"
  bash -c "$fresh"
  "$ferry" install -q --python "$scratch/fv" -r "$lockfile"
  "$uv" pip install -q --python "$scratch/uvv" -r bench/requirements/jupyter.txt
  rm -rf "$scratch/lockdone" && cp -a "$scratch/fv" "$scratch/lockdone"
fi
bench install-jupyter-lock-warm \
  "$ferry install -q --offline --python $scratch/fv -r $lockfile" \
  "$uv pip install -q --python $scratch/uvv -r bench/requirements/jupyter.txt" \
  "cp -al $scratch/lockdone $scratch/cpv" \
  "$fresh && rm -rf $scratch/cpv" "$install_runs" 1

# 10. `ferry cache list` on a cache holding the jupyter, web and science sets: every entry with
# its origin, read from the records beside the entries. Target: under 200 ms (no other tool
# lists its whole cache; the table has no ratio, the note under it the median).
if [ -z "$only" ] || [[ cache-list =~ $only ]]; then
  for set in jupyter web science; do
    bash -c "$fresh"
    "$ferry" install -q --python "$scratch/fv" -r "bench/requirements/$set.txt"
  done
fi
bench cache-list "$ferry cache list" "" "" "true"

# 6. One very large wheel, like a torch-sized binary wheel: generated here (incompressible,
# stored), served over HTTP on 127.0.0.1 as a find-links page, installed cold into a fresh venv.
# What matters is peak memory staying flat as the wheel grows.
huge="$work/huge"
for size in 200 2000; do
  name="huge$size"
  if [ -n "$only" ] && ! [[ huge-wheel-$size =~ $only ]]; then continue; fi
  "$python" bench/make_wheel.py "$huge" "$name" "$size"
done
if [ -z "$only" ] || [[ huge-wheel =~ $only ]]; then
  port=$("$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$python" -m http.server "$port" --bind 127.0.0.1 --directory "$huge" >/dev/null 2>&1 &
  server=$!
  trap 'kill $server 2>/dev/null || true' EXIT
  sleep 1
  links="http://127.0.0.1:$port/"
  for size in 200 2000; do
    name="huge$size"
    bench "huge-wheel-$size" \
      "$ferry install -q --python $scratch/fv --no-index -f $links $name" \
      "$uv pip install -q --python $scratch/uvv --no-index -f $links $name" \
      "$pip --python $scratch/pv/bin/python install -q --no-index -f $links $name" \
      "$fresh && rm -rf $FERRY_CACHE_DIR $UV_CACHE_DIR $PIP_CACHE_DIR && sync" 3 0
  done
  kill "$server" 2>/dev/null || true
fi

# 7. Building from source. A set of pure-Python sdists (bench/requirements/sdists.txt: several
# backends) installed with --no-binary :all: into a fresh venv, cold (every cache emptied) and
# warm (the build cache full: no backend runs, which ferry's -v log proves by the absence of
# "Running the backend"), and `install -e` of a small setuptools project (warm caches; the
# project's stamp is refreshed before each run so every tool builds its editable again).
sreq="bench/requirements/sdists.txt"
ferry_sdists="$ferry install -q --python $scratch/fv --no-binary :all: -r $sreq"
uv_sdists="$uv pip install -q --python $scratch/uvv --no-binary :all: -r $sreq"
pip_sdists="$pip --python $scratch/pv/bin/python install -q --no-binary :all: -r $sreq"
bench build-sdists-cold "$ferry_sdists" "$uv_sdists" "$pip_sdists" \
  "$fresh && rm -rf $FERRY_CACHE_DIR $UV_CACHE_DIR $PIP_CACHE_DIR && sync" "$install_runs" 0
if [ -z "$only" ] || [[ build-sdists-warm =~ $only ]]; then
  bash -c "$fresh" && bash -c "$ferry_sdists" && bash -c "$uv_sdists" && bash -c "$pip_sdists" >/dev/null
  bash -c "$fresh"
  runs_backend=$("$ferry" install -v --python "$scratch/fv" --no-binary :all: -r "$sreq" 2>&1 | grep -c "Running the backend" || true)
  echo "build-sdists-warm: backend hooks run by ferry with a full build cache: $runs_backend" >&2
  echo "$runs_backend" > "$results/build-sdists-warm.hooks"
fi
bench build-sdists-warm "$ferry_sdists" "$uv_sdists" "$pip_sdists" "$fresh" "$install_runs" 1

proj="$scratch/editable-proj"
if [ -z "$only" ] || [[ editable-install =~ $only ]]; then
  mkdir -p "$proj/editable_demo"
  printf '[build-system]\nrequires = ["setuptools>=64"]\nbuild-backend = "setuptools.build_meta"\n\n[project]\nname = "editable-demo"\nversion = "1.0"\ndependencies = ["six"]\n' > "$proj/pyproject.toml"
  echo "VALUE = 1" > "$proj/editable_demo/__init__.py"
  bash -c "$fresh"
  "$ferry" install -q --python "$scratch/fv" -e "$proj"
  "$uv" pip install -q --python "$scratch/uvv" -e "$proj"
  $pip --python "$scratch/pv/bin/python" install -q -e "$proj" >/dev/null
  touch "$proj/pyproject.toml"
  "$ferry" install -v --python "$scratch/fv" -e "$proj" 2>&1 | sed -n 's/.*Build environment of .* ready in \([0-9]*\) ms/\1/p' > "$results/build-env-warm.ms"
  echo "warm build environment set-up: $(cat "$results/build-env-warm.ms") ms" >&2
fi
bench editable-install \
  "$ferry install -q --python $scratch/fv -e $proj" \
  "$uv pip install -q --python $scratch/uvv -e $proj" \
  "$pip --python $scratch/pv/bin/python install -q -e $proj" \
  "$fresh && touch $proj/pyproject.toml" "$install_runs" 1

# 8. A git requirement pinned to a commit, installed into a new venv with warm caches: the
# second time, no clone and no fetch (ferry's -v log shows no `git fetch`/`ls-remote`), the
# wheel from the build cache. The repository is local (git+file://), a small setuptools project.
repo="$scratch/git-repo"
if [ -z "$only" ] || [[ git-install-warm =~ $only ]]; then
  rm -rf "$repo" && mkdir -p "$repo/gitdemo"
  printf '[build-system]\nrequires = ["setuptools>=64"]\nbuild-backend = "setuptools.build_meta"\n\n[project]\nname = "gitdemo"\nversion = "1.0"\ndependencies = ["six"]\n' > "$repo/pyproject.toml"
  echo "VALUE = 1" > "$repo/gitdemo/__init__.py"
  git -C "$repo" init -q && git -C "$repo" add -A
  git -C "$repo" -c user.name=bench -c user.email=bench@127.0.0.1 commit -q -m bench
  commit=$(git -C "$repo" rev-parse HEAD)
  greq="git+file://$repo@$commit#egg=gitdemo"
  bash -c "$fresh"
  "$ferry" install -q --python "$scratch/fv" "$greq"
  "$uv" pip install -q --python "$scratch/uvv" "$greq"
  $pip --python "$scratch/pv/bin/python" install -q "$greq" >/dev/null
  bash -c "$fresh"
  fetches=$("$ferry" install -vv --python "$scratch/fv" "$greq" 2>&1 | grep -cE "git (fetch|ls-remote|clone)" || true)
  echo "git-install-warm: git fetches/clones by ferry with a warm cache: $fetches" >&2
  echo "$fetches" > "$results/git-install-warm.fetches"
  bench git-install-warm \
    "$ferry install -q --python $scratch/fv $greq" \
    "$uv pip install -q --python $scratch/uvv $greq" \
    "$pip --python $scratch/pv/bin/python install -q $greq" \
    "$fresh" "$install_runs" 1
fi

# 9. `download` of the pinned web set into an empty directory, against pip download (uv has no
# download command): cold (caches emptied) and warm (caches full, the directory emptied).
dl="$scratch/dl"
ferry_dl="$ferry download -q -d $dl/ferry -r bench/requirements/web.txt --python $python"
pip_dl="$pip download -q -d $dl/pip -r bench/requirements/web.txt"
bench download-web-cold "$ferry_dl" "" "$pip_dl" \
  "rm -rf $dl $FERRY_CACHE_DIR $UV_CACHE_DIR $PIP_CACHE_DIR && sync" "$install_runs" 0
bench download-web-warm "$ferry_dl" "" "$pip_dl" "rm -rf $dl" "$install_runs" 1

# 4. Parsing one very large page (botocore: ~5,000 files), HTML and JSON.
if [ -z "$only" ]; then
  cargo run --release -q -p ferry-index --example parse_page -- botocore 30 > "$results/parse.txt"
fi

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
table=$("$python" bench/report.py "$results" "$commit" "$invocation" "$python")
echo "$table"
if [ "$write" = 1 ]; then
  "$python" - "$table" <<'PY'
import sys, re
path = "docs/BENCHMARKS.md"
text = open(path).read()
start, end = "<!-- bench:start -->", "<!-- bench:end -->"
new = start + "\n" + sys.argv[1] + "\n" + end
text = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda m: new, text, flags=re.S)
open(path, "w").write(text)
PY
  echo "updated docs/BENCHMARKS.md" >&2
fi
