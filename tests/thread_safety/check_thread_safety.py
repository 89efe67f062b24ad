#!/usr/bin/env python3
"""Checks atelier's lock annotations with clang's -Wthread-safety.

g++ ignores ABSL_GUARDED_BY, ABSL_EXCLUSIVE_LOCKS_REQUIRED and friends; clang
checks them. This runs `clang++ -fsyntax-only -Wthread-safety
-Werror=thread-safety` over every .cc file of the build (compile_commands.json)
that uses absl::Mutex or its annotations (itself or in its own header; --all:
through any project header it includes), with the flags the build compiles it with (gcc-only flags dropped).
trainer/ is left out (LibTorch's headers make it slow). Exit status 0 when
clang finds nothing, 1 otherwise (or when a file cannot be parsed).

  check_thread_safety.py --compile-commands BUILD/compile_commands.json --source-dir SRC
  check_thread_safety.py --clang-args-from FILE.cc ... --file X.cc   (one file, e.g. a fixture)
"""
import argparse
import concurrent.futures
import json
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

MARKERS = re.compile(r"absl/synchronization/mutex\.h|absl::Mutex|ABSL_GUARDED_BY|ABSL_PT_GUARDED_BY|"
                     r"ABSL_EXCLUSIVE_LOCKS_REQUIRED|ABSL_SHARED_LOCKS_REQUIRED|ABSL_LOCKS_EXCLUDED")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
EXCLUDED_DIRS = ("trainer/",)
# Flags g++ takes and clang rejects (or that only matter for code generation).
DROP_PREFIXES = ("-fconcepts-diagnostics-depth", "-fno-semantic-interposition", "-fstack-clash-protection",
                 "-fcf-protection", "-flto", "-ffat-lto-objects", "-fno-fat-lto-objects", "-fuse-linker-plugin",
                 "-fdiagnostics-color", "-fmax-errors", "-Wno-maybe-uninitialized", "-Wno-stringop",
                 "-Wno-class-memaccess", "-Wno-psabi", "-fprofile", "-fno-gnu-unique", "-fno-tree-")
CLANG_FLAGS = ["-fsyntax-only", "-Wno-everything", "-Wthread-safety", "-Werror=thread-safety",
               "-Wno-unknown-warning-option"]


def arguments_of(entry):
    if "arguments" in entry:
        return list(entry["arguments"])
    return shlex.split(entry["command"])


def clang_command(clang, entry):
    args = arguments_of(entry)
    # The compiler (after a launcher such as ccache) is replaced by clang.
    while args and os.path.basename(args[0]) in ("ccache", "sccache"):
        args.pop(0)
    args = args[1:]
    out, skip = [clang], False
    for a in args:
        if skip:
            skip = False
            continue
        if a in ("-o", "-MF", "-MT", "-MQ"):
            skip = True
            continue
        if a in ("-c", "-MD", "-MMD") or a.startswith(DROP_PREFIXES):
            continue
        if a.startswith("-W") or a == "-g" or a.startswith("-O"):
            continue  # warnings are clang's thread-safety ones only; no code is generated
        out.append(a)
    return out + CLANG_FLAGS


def uses_locks(path, include_dirs):
    """True when the .cc file or its own header (same name, .h) uses absl::Mutex or
    the annotations: only code that declares guarded state or takes a lock can
    break the rules (--all also checks every file that includes such a header)."""
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return False
    if MARKERS.search(text):
        return True
    stem = Path(path).stem
    for inc in INCLUDE.findall(text):
        if Path(inc).stem != stem:
            continue
        for d in [os.path.dirname(path)] + include_dirs:
            candidate = os.path.join(d, inc)
            if os.path.isfile(candidate):
                if MARKERS.search(Path(candidate).read_text(errors="replace")):
                    return True
                break
    return False


class HeaderScan:
    """Which files use the annotations, themselves or through project headers."""

    def __init__(self, source_dir):
        self.source_dir = source_dir
        self.memo = {}

    def uses(self, path, include_dirs, depth=0):
        path = os.path.realpath(path)
        if path in self.memo:
            return self.memo[path]
        self.memo[path] = False  # include cycles
        try:
            text = Path(path).read_text(errors="replace")
        except OSError:
            return False
        found = bool(MARKERS.search(text))
        if not found and depth < 12:
            for inc in INCLUDE.findall(text):
                for d in [os.path.dirname(path)] + include_dirs:
                    candidate = os.path.join(d, inc)
                    if os.path.isfile(candidate):
                        if os.path.realpath(candidate).startswith(self.source_dir) and self.uses(
                                candidate, include_dirs, depth + 1):
                            found = True
                        break
                if found:
                    break
        self.memo[path] = found
        return found


def include_dirs_of(entry, source_dir):
    dirs, args = [], arguments_of(entry)
    for i, a in enumerate(args):
        d = None
        if a == "-I" and i + 1 < len(args):
            d = args[i + 1]
        elif a.startswith("-I"):
            d = a[2:]
        if d is not None:
            d = os.path.realpath(os.path.join(entry.get("directory", "."), d))
            if d.startswith(source_dir):
                dirs.append(d)
    return dirs


def run_one(command, directory):
    started = time.monotonic()
    p = subprocess.run(command, cwd=directory, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return p.returncode, p.stdout, time.monotonic() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--compile-commands", required=True, type=Path)
    parser.add_argument("--source-dir", required=True, type=Path)
    parser.add_argument("--clang", default="/usr/bin/clang++")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--file", action="append", default=[],
                        help="check these files only, with the flags of --clang-args-from")
    parser.add_argument("--clang-args-from", default="common/atelier/common/clock.cc",
                        help="with --file: the source (relative to --source-dir) whose flags to use")
    parser.add_argument("--list", action="store_true", help="print the files that would be checked")
    parser.add_argument("--all", action="store_true",
                        help="also every file that includes such a header, however indirectly (slow)")
    opts = parser.parse_args()

    source_dir = os.path.realpath(opts.source_dir)
    if not os.path.exists(opts.clang):
        print(f"check_thread_safety: {opts.clang} not found (install clang)", file=sys.stderr)
        return 1
    entries = json.loads(opts.compile_commands.read_text())
    by_file = {os.path.realpath(os.path.join(e.get("directory", "."), e["file"])): e for e in entries}

    jobs = []  # (file, command, directory)
    if opts.file:
        template = by_file.get(os.path.realpath(os.path.join(source_dir, opts.clang_args_from)))
        if template is None:
            print(f"check_thread_safety: {opts.clang_args_from} is not in {opts.compile_commands}", file=sys.stderr)
            return 1
        base = [a for a in clang_command(opts.clang, template) if os.path.realpath(
            os.path.join(template.get("directory", "."), a)) != os.path.realpath(
                os.path.join(template.get("directory", "."), template["file"]))]
        for f in opts.file:
            jobs.append((f, base + [os.path.realpath(f)], template.get("directory", ".")))
    else:
        scan = HeaderScan(source_dir)
        for path, entry in sorted(by_file.items()):
            if not path.startswith(source_dir + os.sep) or not path.endswith(".cc"):
                continue
            rel = os.path.relpath(path, source_dir)
            if rel.startswith(EXCLUDED_DIRS):
                continue
            dirs = include_dirs_of(entry, source_dir)
            if not (scan.uses(path, dirs) if opts.all else uses_locks(path, dirs)):
                continue
            jobs.append((rel, clang_command(opts.clang, entry), entry.get("directory", ".")))
    if opts.list:
        for f, _, _ in jobs:
            print(f)
        return 0
    if not jobs:
        print("check_thread_safety: no files to check", file=sys.stderr)
        return 1

    started = time.monotonic()
    failed = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, opts.jobs)) as pool:
        futures = {pool.submit(run_one, cmd, d): f for f, cmd, d in jobs}
        for future in concurrent.futures.as_completed(futures):
            f = futures[future]
            rc, output, seconds = future.result()
            if rc != 0:
                failed.append(f)
                print(f"FAIL {f} ({seconds:.1f} s)\n{output}")
            else:
                print(f"ok   {f} ({seconds:.1f} s)")
    print(f"{len(jobs) - len(failed)} of {len(jobs)} files pass clang -Wthread-safety "
          f"({time.monotonic() - started:.0f} s, {opts.jobs} jobs)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
