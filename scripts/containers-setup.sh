#!/usr/bin/env bash
# npm run containers:setup: leaves a running Docker engine that can `docker build` this checkout and run
# docker-compose.yaml. Every step is skipped when its result is already there, so a second run is fast.
#
#  1. An engine and Compose. When no engine answers: Debian's docker.io and docker-compose are installed
#     (if missing) and dockerd is started in the background (these machines have no systemd).
#  2. The base images named by the Dockerfile's FROM lines and the compose file's `image:` lines. Each is
#     pulled when a registry answers; otherwise a stand-in is built from Debian packages and tagged with
#     that exact name (recipes in scripts/containers/): a Debian root file system from debootstrap, plus
#     the Node.js binary of the FROM tag's version (npm package node-linux-<arch>) and npm, or Debian's
#     postgresql-<major> and gosu with an entrypoint like the official one.
#
# Environment:
#   CONTAINERS_BASE_IMAGES  auto (default): pull, else build a stand-in; pull: real images only, a failed
#                           pull fails the run (GitHub CI); standin: never pull.
#   CONTAINERS_CACHE        downloads, root file systems and dockerd's log (default ~/.cache/ctera-containers)
#   DOCKER                  the docker CLI (default /usr/bin/docker when present, else `docker` on PATH:
#                           a newer CLI without the buildx plugin cannot use BuildKit)
set -euo pipefail
cd "$(dirname "$0")/.."

MODE=${CONTAINERS_BASE_IMAGES:-auto}
CACHE=${CONTAINERS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ctera-containers}
RECIPES=scripts/containers
STANDIN_LABEL=ctera.standin.recipe
DOCKER_CHOSEN=${DOCKER:-}
export DOCKER_BUILDKIT=1

log() { echo "containers:setup: $*"; }
die() {
  echo "containers:setup: $*" >&2
  exit 1
}
case "$MODE" in auto | pull | standin) ;; *) die "CONTAINERS_BASE_IMAGES must be auto, pull or standin, not '$MODE'" ;; esac
mkdir -p "$CACHE"

need_root() { [ "$(id -u)" = 0 ] || die "$1 needs root (run as root, or install it yourself)"; }

apt_install() {
  command -v apt-get >/dev/null || die "$* is missing and there is no apt-get here: install Docker (and Compose) yourself"
  need_root "installing $*"
  log "installing $* from Debian"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"; } \
    >"$CACHE/apt.log" 2>&1 || die "installing $* failed: see $CACHE/apt.log"
}

docker_cli() {
  if [ -n "$DOCKER_CHOSEN" ]; then echo "$DOCKER_CHOSEN"; elif [ -x /usr/bin/docker ]; then echo /usr/bin/docker; else command -v docker || true; fi
}

engine_answers() { [ -n "$DOCKER" ] && "$DOCKER" info >/dev/null 2>&1; }

ensure_engine() {
  DOCKER=$(docker_cli)
  if ! engine_answers; then
    if [ -S /var/run/docker.sock ] && [ ! -w /var/run/docker.sock ]; then
      die "cannot use /var/run/docker.sock: run as root or as a member of the docker group"
    fi
    command -v dockerd >/dev/null || apt_install docker.io
    DOCKER=$(docker_cli)
    # A dockerd that is still starting (or a stale socket) must not get a second daemon beside it.
    if ! pgrep -x dockerd >/dev/null; then
      need_root "starting dockerd"
      log "starting dockerd in the background (log: $CACHE/dockerd.log)"
      setsid dockerd >>"$CACHE/dockerd.log" 2>&1 </dev/null &
    fi
    for _ in $(seq 90); do
      engine_answers && break
      sleep 1
    done
    engine_answers || die "dockerd did not answer within 90 s: see $CACHE/dockerd.log"
  fi
  log "engine: Docker $("$DOCKER" version --format '{{.Server.Version}}') ($DOCKER)"

  if "$DOCKER" compose version >/dev/null 2>&1; then
    log "compose: $("$DOCKER" compose version --short 2>/dev/null || echo v2)"
  else
    command -v docker-compose >/dev/null || apt_install docker-compose
    log "compose: $(docker-compose version --short) (v1: pass -p NAME; it rejects the top-level name: key)"
  fi
}

# The recipe's fingerprint, stored as a label: a stand-in built from an older recipe is rebuilt. The node
# and postgres stand-ins share one fingerprint of their three files (as before the distroless recipe came,
# so their stand-ins stay valid); the distroless stand-in has its own.
recipe_hash() {
  case "$1" in
    gcr.io/distroless/*) cat "$RECIPES/distroless-node-standin.Dockerfile" ;;
    *) cat "$RECIPES/node-standin.Dockerfile" "$RECIPES/postgres-standin-entrypoint.sh" "$RECIPES/postgres-standin.Dockerfile" ;;
  esac | sha256sum | cut -c1-16
}

image_label() { "$DOCKER" image inspect --format "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null; }

debian_mirror() {
  local found
  found=$(grep -rhoE 'https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null |
    head -n 1 | tr -d ' ' || true)
  echo "${found:-http://deb.debian.org/debian}"
}

# ctera-standin/debian:SUITE, a minimal Debian imported from a debootstrap root file system (cached as a tar).
ensure_debian() {
  local suite=$1 image="ctera-standin/debian:$1" tarball="$CACHE/debian-$1.tar"
  "$DOCKER" image inspect "$image" >/dev/null 2>&1 && return
  if [ ! -s "$tarball" ]; then
    command -v debootstrap >/dev/null || apt_install debootstrap
    need_root "debootstrap"
    local root mirror
    root=$(mktemp -d "$CACHE/rootfs-$suite.XXXXXX")
    mirror=$(debian_mirror)
    log "debootstrap $suite from $mirror (a few minutes; log: $CACHE/debootstrap-$suite.log)"
    debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$CACHE/debootstrap-$suite.log" 2>&1 ||
      die "debootstrap $suite failed: see $CACHE/debootstrap-$suite.log"
    # Docker provides these at run time; the downloaded packages are only dead weight.
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/etc/resolv.conf "$root"/etc/hostname
    tar -C "$root" -cf "$tarball.partial" .
    mv "$tarball.partial" "$tarball"
    rm -rf "$root"
  fi
  "$DOCKER" import "$tarball" "$image" >/dev/null
  log "$image: imported from $tarball"
}

# An npm package's tarball, downloaded once into the cache; prints its path.
npm_tarball() {
  local spec=$1 name
  name="$(echo "${spec%@*}" | tr -d @ | tr / -)-${spec##*@}.tgz"
  if [ ! -s "$CACHE/npm/$name" ]; then
    mkdir -p "$CACHE/npm"
    npm pack --silent --pack-destination "$CACHE/npm" "$spec" >/dev/null
  fi
  echo "$CACHE/npm/$name"
}

build_standin() {
  local image=$1 context=$2
  shift 2
  "$DOCKER" build --quiet --label "$STANDIN_LABEL=$(recipe_hash "$image")" -t "$image" "$@" "$context" >/dev/null ||
    die "building the stand-in $image failed (run the same with docker build to see why)"
  log "$image: stand-in built"
}

# node:VERSION-SUITE-slim, e.g. node:24.22.3-bookworm-slim.
build_node_standin() {
  local image=$1 tag version suite arch context npm_version
  tag=${image#node:}
  version=${tag%%-*}
  suite=$(echo "$tag" | cut -d- -f2)
  [[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "$image: the stand-in needs an exact version tag (node:X.Y.Z-SUITE-slim)"
  case "$(uname -m)" in x86_64) arch=x64 ;; aarch64) arch=arm64 ;; *) die "no Node.js binary for $(uname -m)" ;; esac
  ensure_debian "$suite"
  context=$(mktemp -d)
  mkdir -p "$context/node" "$context/npm"
  # The `node` npm package only installs node-linux-<arch>, which holds the release's bin/, include/, share/.
  tar -xzf "$(npm_tarball "node-linux-$arch@$version")" -C "$context/node" --strip-components=1 \
    package/bin package/include package/share package/CHANGELOG.md
  # The official image carries the npm that ships with that Node release; its changelog names it first.
  npm_version=$(grep -m 1 -oE 'upgrade npm to [0-9]+\.[0-9]+\.[0-9]+' "$context/node/CHANGELOG.md" | awk '{print $4}')
  [ -n "$npm_version" ] || die "node $version: its CHANGELOG.md names no npm version"
  rm "$context/node/CHANGELOG.md"
  tar -xzf "$(npm_tarball "npm@$npm_version")" -C "$context/npm" --strip-components=1
  cp /etc/ssl/certs/ca-certificates.crt "$context/"
  cp "$RECIPES/node-standin.Dockerfile" "$context/Dockerfile"
  build_standin "$image" "$context" --build-arg "BASE=ctera-standin/debian:$suite" --build-arg "NODE_VERSION=$version"
  rm -rf "$context"
}

# The Node.js version a stand-in without a version in its tag carries: the one of the Dockerfile's
# node:X.Y.Z-… image of the same major, so the runtime stage runs the release the build stage used.
node_version_of_major() {
  base_images | grep -oE "^node:$1\.[0-9]+\.[0-9]+" | head -n 1 | cut -d: -f2
}

# gcr.io/distroless/nodejsMAJOR-debianN:nonroot: no shell, no package manager, node at /nodejs/bin/node.
build_distroless_standin() {
  local image=$1 major debian suite version arch context
  major=$(echo "$image" | grep -oE 'nodejs[0-9]+' | tr -dc 0-9)
  debian=$(echo "$image" | grep -oE 'debian[0-9]+' | tr -dc 0-9)
  case "$debian" in
    12) suite=bookworm ;;
    13) suite=trixie ;;
    *) die "$image: no stand-in for debian$debian (12 and 13 are known)" ;;
  esac
  [ "${image##*:}" = nonroot ] || die "$image: the stand-in is built for the :nonroot tag only"
  version=$(node_version_of_major "$major")
  [ -n "$version" ] || die "$image: the Dockerfile names no node:$major.x.y image to take the Node.js version from"
  case "$(uname -m)" in x86_64) arch=x64 ;; aarch64) arch=arm64 ;; *) die "no Node.js binary for $(uname -m)" ;; esac
  ensure_debian "$suite"
  context=$(mktemp -d)
  mkdir -p "$context/node"
  tar -xzf "$(npm_tarball "node-linux-$arch@$version")" -C "$context/node" --strip-components=1 package/bin/node
  cp /etc/ssl/certs/ca-certificates.crt "$context/"
  cp "$RECIPES/distroless-node-standin.Dockerfile" "$context/Dockerfile"
  build_standin "$image" "$context" --build-arg "BASE=ctera-standin/debian:$suite" --build-arg "NODE_VERSION=$version"
  rm -rf "$context"
}

# postgres:MAJOR. Debian packages one PostgreSQL major per release.
build_postgres_standin() {
  local image=$1 major suite context
  major=${image#postgres:}
  major=${major%%[.-]*}
  case "$major" in
    15) suite=bookworm ;;
    17) suite=trixie ;;
    *) die "$image: no Debian release packages postgresql-$major (bookworm has 15, trixie 17)" ;;
  esac
  ensure_debian "$suite"
  context=$(mktemp -d)
  cp "$RECIPES/postgres-standin.Dockerfile" "$context/Dockerfile"
  cp -p "$RECIPES/postgres-standin-entrypoint.sh" "$context/"
  build_standin "$image" "$context" --build-arg "BASE=ctera-standin/debian:$suite" --build-arg "PG_MAJOR=$major"
  rm -rf "$context"
}

# A FROM line may pin a digest (NAME:TAG@sha256:…): the real image is pulled by that digest; a stand-in
# cannot have it (a digest is the hash of the registry's manifest), so it is tagged NAME:TAG, and the
# container suite builds from a copy of the Dockerfile without the digest (test/containers/support/image.ts).
ensure_base_image() {
  local ref=$1 image recipe pull_ref
  image=${ref%@*}
  pull_ref=$ref
  [ "$image" != "$ref" ] && pull_ref="${image%:*}@${ref##*@}"
  if [ "$image" != "$ref" ] && "$DOCKER" image inspect "$pull_ref" >/dev/null 2>&1; then
    log "$pull_ref: present"
    return
  fi
  if "$DOCKER" image inspect "$image" >/dev/null 2>&1; then
    recipe=$(image_label "$image" "$STANDIN_LABEL")
    if [ -z "$recipe" ] && [ "$image" = "$ref" ]; then
      log "$image: present"
      return
    elif [ -n "$recipe" ] && [ "$MODE" != pull ] && [ "$recipe" = "$(recipe_hash "$image")" ]; then
      log "$image: present (stand-in)"
      return
    fi
  fi
  if [ "$MODE" != standin ]; then
    # Bounded: where the registry is unreachable a pull may hang on the connection.
    if timeout 300 "$DOCKER" pull --quiet "$pull_ref" >/dev/null 2>"$CACHE/pull.log"; then
      log "$pull_ref: pulled"
      return
    fi
    [ "$MODE" = pull ] && die "cannot pull $pull_ref: $(tail -n 1 "$CACHE/pull.log")"
    log "$pull_ref: cannot be pulled, building a stand-in"
  fi
  case "$image" in
    node:*) build_node_standin "$image" ;;
    gcr.io/distroless/nodejs*) build_distroless_standin "$image" ;;
    postgres:*) build_postgres_standin "$image" ;;
    *) die "$image cannot be pulled and there is no stand-in recipe for it" ;;
  esac
}

base_images() {
  # FROM lines (stage names left out) and the compose services' images other than the one we build.
  awk 'toupper($1) == "FROM" { for (i = 2; i <= NF; i++) if ($i !~ /^--/) { print $i; break } }' Dockerfile
  awk '$1 == "image:" && $2 != "ctera-app" { print $2 }' docker-compose.yaml
}

started=$SECONDS
ensure_engine
for image in $(base_images | sort -u); do ensure_base_image "$image"; done
log "ready in $((SECONDS - started)) s: DOCKER_BUILDKIT=1 $DOCKER build . works"
