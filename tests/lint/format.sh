#!/usr/bin/env bash
# Fails when a tracked C file differs from what clang-format (.clang-format) makes of it.
set -u
top=${1:-.}
cd "$top" || exit 2
command -v clang-format >/dev/null || { echo "clang-format not installed"; exit 1; }
files=$(git ls-files '*.c' '*.h' 2>/dev/null)
[ -n "$files" ] || { echo "1 passed, 0 failed"; exit 0; }
if clang-format --dry-run -Werror $files; then echo "1 passed, 0 failed"; exit 0; fi
echo "0 passed, 1 failed (run: make format)"
exit 1
