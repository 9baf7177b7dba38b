#!/usr/bin/env bash
# Size limits (issue 18): no file in sim/ over 500 lines, no function over 80 lines, except those listed
# with a reason in tests/cli/size_limits_exceptions.txt. The scan is tests/cli/size_limits_check.py
# (brace matching over code with comments and literals blanked; how it finds functions is at its top).
# Args: <servetwin> <repo> <shared> (only <repo> is used)
set -euo pipefail
repo="$2"
check="$repo/tests/cli/size_limits_check.py"

# First prove the checker can fail, and that it measures what it should: a fake tree with one long file,
# one long function, and code that fools a naive brace counter (braces in strings, comments and raw
# strings, a constructor with brace-initialised members, a long lambda-holding function, a class body).
fake=$(mktemp -d)
trap 'rm -rf "$fake"' EXIT
mkdir -p "$fake/sim/x"
{
  echo 'namespace n {'
  echo 'struct S {'
  echo '  int a_, b_;'
  echo '  S(int a, int b) : a_{a}, b_{b} {'
  for _ in $(seq 1 79); do echo '    a_ += 1;'; done
  echo '  }'  # S::S: lines 4..84 = 81 lines
  echo '  int small() const { return a_; }'
  echo '};'
  echo 'const char* kText = "}}}{";  // }'
  echo '/* { */'
  echo 'const char* kRaw = R"x( { )" } )x";'
  echo 'int long_one(int v) {'
  echo '  auto f = [&](int w) {'
  for _ in $(seq 1 75); do echo '    v += w;  // {'; done
  echo '  };'
  echo '  f(1);'
  echo '  return v;'
  echo '}'  # long_one: lines 90..170 = 81 lines
  echo 'int exactly_80(int v) {'
  for _ in $(seq 1 78); do echo "    v += '}';"; done
  echo '}'
  echo '}  // namespace n'
} > "$fake/sim/x/funcs.cpp"
for i in $(seq 1 501); do echo "// line $i"; done > "$fake/sim/x/long_file.hpp"
for i in $(seq 1 500); do echo "// line $i"; done > "$fake/sim/x/ok_file.hpp"
printf 'sim/x/gone.cpp * a file that is not over the limit any more\n' > "$fake/exceptions.txt"
set +e
report=$(python3 "$check" "$fake" "$fake/exceptions.txt")
rc=$?
set -e
expected="sim/x/funcs.cpp:4: S is 81 lines (limit 80)
sim/x/funcs.cpp:90: long_one is 81 lines (limit 80)
sim/x/long_file.hpp: 501 lines (limit 500)
$fake/exceptions.txt: stale exception sim/x/gone.cpp * (within the limits now, or renamed): remove it"
if [[ "$rc" -ne 1 || "$report" != "$expected" ]]; then
  echo "FAIL: the size check on a tree with known sizes (rc $rc); expected:" >&2
  echo "$expected" >&2
  echo "got:" >&2
  echo "$report" >&2
  exit 1
fi

# Then the source tree.
if ! report=$(python3 "$check" "$repo" "$repo/tests/cli/size_limits_exceptions.txt"); then
  echo "FAIL: sim/ is over the size limits (split the function or file; an exception needs a reason in" \
    "tests/cli/size_limits_exceptions.txt):" >&2
  echo "$report" >&2
  exit 1
fi
echo "size_limits: sim/ files <= 500 lines, functions <= 80 lines ($(grep -cv '^\s*\(#\|$\)' \
  "$repo/tests/cli/size_limits_exceptions.txt") exception(s))"
