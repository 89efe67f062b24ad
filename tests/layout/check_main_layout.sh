#!/usr/bin/env bash
# One layout for every executable's main (docs/ARCHITECTURE.md, "One command,
# one executable per role"): main() lives only in <part>/tools/<name>_main.cc
# (benchmarks under bench/ and test programs excepted); each such file opens
# with a comment naming its executable, and every atelier command declares its
# flags through atelier::Conventions (common/atelier/common/command_line.h).
# Signal handlers are installed only there (sigaction/signal), never in a
# library (common/'s StopSignalWatcher is the executables' sigwait helper).
# usage: check_main_layout.sh SOURCE_DIR
set -euo pipefail
root="${1:?usage: check_main_layout.sh SOURCE_DIR}"
cd "$root"
status=0
while IFS= read -r file; do
  case "$file" in
    ./bench/*|*/tests/*|./tests/*) ;;
    */tools/*_main.cc) ;;
    *) echo "main() outside <part>/tools/<name>_main.cc: $file"; status=1 ;;
  esac
done < <(grep -rlE --include='*.cc' '^int main\(' . --exclude-dir=.git --exclude-dir='build*' || true)
while IFS= read -r file; do
  if ! head -1 "$file" | grep -qE '^// [a-z_-]+'; then
    echo "$file: does not open with a comment naming its executable"; status=1
  fi
  if ! grep -qE '^int main\(' "$file"; then echo "$file: has no main()"; status=1; fi
  if head -1 "$file" | grep -q '^// atelier' && ! grep -q 'Conventions(' "$file"; then
    echo "$file: an atelier command without atelier::Conventions"; status=1
  fi
done < <(find . -path './build*' -prune -o -path '*/tools/*_main.cc' -print)
while IFS= read -r file; do
  case "$file" in
    ./bench/*|*/tests/*|./tests/*|*/tools/*_main.cc) ;;
    *) echo "$file: installs a signal handler outside an executable's main file"; status=1 ;;
  esac
done < <(grep -rlE --include='*.cc' --include='*.h' '(sigaction|std::signal|[^a-z_.]signal)\(' . \
           --exclude-dir=.git --exclude-dir='build*' || true)
exit $status
