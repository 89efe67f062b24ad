#!/usr/bin/python3
"""Checks that deploy/docker/Dockerfile's build stage installs exactly the
Debian packages of scripts/apt-packages.txt (the list the README's setup and
scripts/install-deps.sh install), since no container engine runs in CI to
build the image.

The Dockerfile's list is the `apt-get install` between the lines
`# BEGIN build packages` and `# END build packages`. Both are compared as
sets; any difference fails with the packages missing on each side. Duplicates
in either list also fail.

It also checks that the runtime stage installs its packages from the one
runtime list, deploy/docker/runtime-packages.txt (COPY of that file, then
`xargs apt-get install` reading it), which tests/deploy/runtime_root_test.sh
reads too; the list must parse and hold no duplicates.

Usage: check_dockerfile_packages.py [--dockerfile F] [--packages F] [--runtime-packages F]
       check_dockerfile_packages.py --self-test
Exit code 0 when they agree, 1 when they differ or a file is malformed.
"""

import argparse
import collections
import pathlib
import shlex
import sys
import tempfile

REPO = pathlib.Path(__file__).resolve().parents[2]
RUNTIME_LIST = "deploy/docker/runtime-packages.txt"
BEGIN = "# BEGIN build packages"
END = "# END build packages"


class CheckError(Exception):
    """A malformed input, with a message naming the file and line."""


def read_package_list(path):
    """Packages of an apt list file: one a line, '#' comments, blank lines."""
    packages = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        entry = line.split("#", 1)[0].strip()
        if not entry:
            continue
        if len(entry.split()) != 1:
            raise CheckError(f"{path}:{number}: one package a line, got {entry!r}")
        packages.append(entry)
    return packages


def read_dockerfile_packages(path):
    """Packages named by `apt-get install` between the BEGIN/END markers."""
    lines = path.read_text().splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip().startswith(BEGIN)]
    ends = [i for i, line in enumerate(lines) if line.strip().startswith(END)]
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        raise CheckError(
            f"{path}: needs exactly one '{BEGIN}' line followed by one '{END}' line")
    # Join continuation lines into shell commands.
    block = "\n".join(lines[starts[0] + 1:ends[0]]).replace("\\\n", " ")
    packages = []
    found_install = False
    for line in block.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("RUN "):
            line = line[4:]
        for command in _split_commands(line):
            words = shlex.split(command)
            if len(words) >= 2 and words[0] == "apt-get" and "install" in words:
                found_install = True
                after = words[words.index("install") + 1:]
                packages.extend(w for w in after if not w.startswith("-"))
    if not found_install:
        raise CheckError(f"{path}: no `apt-get install` between '{BEGIN}' and '{END}'")
    return packages


def _split_commands(line):
    """Splits a shell line on && ; || (quotes in package lists are not used)."""
    for sep in ("&&", "||", ";"):
        line = line.replace(sep, "\n")
    return [c.strip() for c in line.splitlines() if c.strip()]


def compare(dockerfile, package_file):
    """Returns a list of problems (empty when the lists agree)."""
    wanted = read_package_list(package_file)
    installed = read_dockerfile_packages(dockerfile)
    problems = []
    for name, items in ((package_file, wanted), (dockerfile, installed)):
        dups = sorted(p for p, n in collections.Counter(items).items() if n > 1)
        if dups:
            problems.append(f"{name}: listed more than once: {' '.join(dups)}")
    missing = sorted(set(wanted) - set(installed))
    extra = sorted(set(installed) - set(wanted))
    if missing:
        problems.append(
            f"in {package_file} but not installed by {dockerfile}'s build stage: "
            + " ".join(missing))
    if extra:
        problems.append(
            f"installed by {dockerfile}'s build stage but not in {package_file}: "
            + " ".join(extra))
    return problems


def check_runtime_stage(dockerfile, runtime_file):
    """Problems with the runtime stage's use of the runtime package list."""
    problems = []
    runtime = read_package_list(runtime_file)
    dups = sorted(p for p, n in collections.Counter(runtime).items() if n > 1)
    if dups:
        problems.append(f"{runtime_file}: listed more than once: {' '.join(dups)}")
    text = dockerfile.read_text()
    stage = text.split(" AS runtime", 1)
    if len(stage) != 2:
        return problems + [f"{dockerfile}: no stage named 'runtime'"]
    body = stage[1].replace("\\\n", " ")
    copy = [line for line in body.splitlines()
            if line.strip().startswith("COPY ") and RUNTIME_LIST in line]
    if len(copy) != 1:
        problems.append(f"{dockerfile}: the runtime stage must COPY {RUNTIME_LIST} once")
        return problems
    target = copy[0].split()[-1]
    if not any("xargs apt-get install" in line and target in line for line in body.splitlines()):
        problems.append(
            f"{dockerfile}: the runtime stage must install {target} with `xargs apt-get install`")
    return problems


def self_test():
    """The check must pass on agreeing lists and fail on drifting ones."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        pkgs = tmp / "apt-packages.txt"
        pkgs.write_text("# comment\ncmake\n\nninja-build  # trailing\nlibfoo-dev\n")
        docker = tmp / "Dockerfile"
        body = ("FROM debian:bookworm AS build\n" + BEGIN + "\n"
                "RUN apt-get update && apt-get install -y --no-install-recommends \\\n"
                "      cmake ninja-build \\\n      libfoo-dev \\\n"
                " && rm -rf /var/lib/apt/lists/*\n" + END + "\nRUN true\n")
        docker.write_text(body)
        assert compare(docker, pkgs) == [], compare(docker, pkgs)
        docker.write_text(body.replace("libfoo-dev", "libbar-dev"))
        problems = compare(docker, pkgs)
        assert len(problems) == 2 and "libfoo-dev" in problems[0] and "libbar-dev" in problems[1], problems
        docker.write_text(body.replace("cmake ninja-build", "cmake cmake ninja-build"))
        assert any("more than once: cmake" in p for p in compare(docker, pkgs))
        docker.write_text(body.replace(END, ""))
        try:
            compare(docker, pkgs)
            raise AssertionError("missing END marker accepted")
        except CheckError:
            pass
        runtime = tmp / "runtime-packages.txt"
        runtime.write_text("# libs\ntini\nlibfoo1\n")
        stage = ("FROM debian:bookworm-slim AS runtime\n"
                 f"COPY {RUNTIME_LIST} /tmp/r.txt\n"
                 "RUN apt-get update \\\n && sed 's/#.*//' /tmp/r.txt | "
                 "xargs apt-get install -y \\\n && rm /tmp/r.txt\n")
        docker.write_text(body + stage)
        assert check_runtime_stage(docker, runtime) == [], check_runtime_stage(docker, runtime)
        docker.write_text(body + stage.replace(f"COPY {RUNTIME_LIST} /tmp/r.txt\n", ""))
        assert check_runtime_stage(docker, runtime), "runtime stage without the list accepted"
        docker.write_text(body + stage.replace("xargs apt-get install", "apt-get install tini"))
        assert check_runtime_stage(docker, runtime), "runtime stage not reading the list accepted"
        runtime.write_text("tini\ntini\n")
        docker.write_text(body + stage)
        assert any("more than once: tini" in p for p in check_runtime_stage(docker, runtime))
    print("self-test passed")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dockerfile", type=pathlib.Path,
                        default=REPO / "deploy" / "docker" / "Dockerfile")
    parser.add_argument("--packages", type=pathlib.Path,
                        default=REPO / "scripts" / "apt-packages.txt")
    parser.add_argument("--runtime-packages", type=pathlib.Path, default=REPO / RUNTIME_LIST)
    parser.add_argument("--self-test", action="store_true",
                        help="check the checker on made-up lists, then exit")
    args = parser.parse_args()
    if args.self_test:
        self_test()
        return 0
    try:
        problems = compare(args.dockerfile, args.packages)
        problems += check_runtime_stage(args.dockerfile, args.runtime_packages)
    except (CheckError, OSError) as e:
        print(f"FAIL: {e}", file=sys.stderr)
        return 1
    if problems:
        print("FAIL: the Dockerfile's package lists are not what they must be:",
              file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        print(f"  (edit the list between '{BEGIN}' and '{END}' in {args.dockerfile})",
              file=sys.stderr)
        return 1
    print(f"OK: {args.dockerfile} installs the {len(read_package_list(args.packages))} "
          f"packages of {args.packages}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
