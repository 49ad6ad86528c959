#!/usr/bin/env bash
# Builds a pinned tool from its Go module: tools/<name> is a module of its own
# (outside go.work, so its dependency graph never mixes with the services'),
# and tools/<name>/build.conf says what to build:
#
#   module=github.com/dapr/dapr      # the required module whose version names the build
#   cmds=(daprd=github.com/dapr/dapr/cmd/daprd ...)   # binary=package
#   tags=allcomponents               # optional build tags
#   ldflags="-X ...=\$version"       # optional; $version is the module's version without "v"
#   cgo=1                            # optional; default CGO_ENABLED=0 (static)
#
# Output: .bin/<name>/<version>/. Idempotent: returns at once when the
# binaries for this version, go.mod/go.sum and build.conf exist in .bin or in
# the machine-wide cache ($DAPRSHOP_CACHE, default ~/.cache/daprshop/<name>),
# which lets fresh clones (CI) skip the build.
set -euo pipefail

name=${1:?usage: tools/build.sh <tool>}
root=$(cd "$(dirname "$0")/.." && pwd)
here="$root/tools/$name"
[ -f "$here/build.conf" ] || { echo "tools/$name/build.conf not found" >&2; exit 2; }

module= tags= ldflags= cgo=0
cmds=()
# shellcheck source=/dev/null
. "$here/build.conf"
version=$(awk -v m="$module" '($1=="require" && $2==m) || $1==m {sub(/^v/, "", $NF); print $NF; exit}' "$here/go.mod")
[ -n "$version" ] || { echo "tools/$name/go.mod does not require $module" >&2; exit 2; }

out="$root/.bin/$name/$version"
stamp="$out/.stamp"
# One build of a tool at a time (make -j, or devrun building a stand-in on
# demand while another build of it runs): the second waits, then finds it.
mkdir -p "$root/.bin/$name"
exec 9>"$root/.bin/$name/.lock"
flock 9
# Everything that changes the binaries: the module graph, the build recipe and
# any command sources of our own (for example a small main that wraps a library).
want="$version $(cat "$here/go.mod" "$here/go.sum" "$here/build.conf" $(find "$here" -name '*.go' | sort) | sha256sum | cut -c1-16)"

bins=()
for c in "${cmds[@]}"; do bins+=("${c%%=*}"); done

complete() {
  for b in "${bins[@]}"; do [ -x "$1/$b" ] || return 1; done
  return 0
}

if complete "$out" && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "$name $version: $out (cached)"
  exit 0
fi

cache="${DAPRSHOP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/daprshop}/$name/${want// /-}"
if complete "$cache"; then
  mkdir -p "$out"
  for b in "${bins[@]}"; do cp -f "$cache/$b" "$out/$b"; done
  echo "$want" > "$stamp"
  echo "$name $version: $out (from $cache)"
  exit 0
fi

mkdir -p "$out"
echo "$name $version: building ${bins[*]} into $out"
cd "$here"
export GOWORK=off CGO_ENABLED=$cgo
start=$(date +%s)
for c in "${cmds[@]}"; do
  bin=${c%%=*} pkg=${c#*=}
  rm -f "$out/$bin"
  go build -trimpath ${tags:+-tags "$tags"} -ldflags "-s -w ${ldflags//\$version/$version}" -o "$out/$bin" "$pkg"
  echo "  built $bin ($(( $(date +%s) - start ))s)"
done
echo "$want" > "$stamp"
mkdir -p "$cache" && for b in "${bins[@]}"; do cp -f "$out/$b" "$cache/$b"; done
