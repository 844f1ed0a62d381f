#!/usr/bin/env bash
# Fails when a C source calls a banned unsafe function (strcpy, strcat,
# sprintf, vsprintf, strtok, atoi, atol, gets). Comments and strings are
# stripped first, so documentation may name them.
set -u
top=${1:-.}
cd "$top" || exit 2
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.c' -o -name '*.h')
bad=0
for f in $files; do
  [ -f "$f" ] || continue
  hits=$(sed -e 's://.*$::' -e 's:"\([^"\\]\|\\.\)*":"":g' "$f" |
         perl -0777 -pe 's{/\*.*?\*/}{ my $c = $&; $c =~ s/[^\n]//g; $c }gse' |
         grep -nE '(^|[^A-Za-z0-9_.>])(strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|atoll|gets)[[:space:]]*\(' || true)
  if [ -n "$hits" ]; then
    while IFS= read -r h; do echo "$f:${h%%:*}: banned function: ${h#*:}"; done <<<"$hits"
    bad=1
  fi
done
if [ $bad -eq 0 ]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; fi
exit $bad
