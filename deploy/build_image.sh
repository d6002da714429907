#!/usr/bin/env bash
# Builds deploy/Containerfile into the image localhost/cortado/cortadod:0.1.0 on this machine,
# offline from any registry: the Containerfile's base images (debian:bookworm and
# debian:bookworm-slim) are made with debootstrap from Debian's packages, as Debian's official
# images are (the minbase variant; slim without documentation, man pages and locales), and the
# Containerfile is built with `buildah bud --isolation chroot`. Then it checks the runtime image
# (every library cortadod links is found, and each comes from deploy/image/runtime-packages.txt
# or the base) and writes it as a docker-archive, printing the image size.
#
# usage (root): deploy/build_image.sh [WORK_DIR]   (default /var/tmp/cortado-image)
# Needs Debian's buildah and debootstrap (apt-get install --no-install-recommends buildah
# debootstrap) and a reachable Debian mirror ($DEBIAN_MIRROR, default http://deb.debian.org/debian).
# The build stage mounts Bazel's disk cache (~/.cache/cortado/bazel-disk) so that it reuses what
# was built here. The images live in WORK_DIR/storage (buildah --root), not in the system store.
# Then: deploy/image_test.py WORK_DIR/cortadod.tar (see the README's "Deploy" section).
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(realpath -m "${1:-/var/tmp/cortado-image}")"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
image=localhost/cortado/cortadod:0.1.0

[ "$(id -u)" = 0 ] || { echo "build_image: run as root (debootstrap, buildah)" >&2; exit 1; }
for tool in buildah debootstrap; do
  command -v "$tool" >/dev/null || {
    echo "build_image: $tool is missing: apt-get install --no-install-recommends buildah debootstrap" >&2
    exit 1
  }
done
mkdir -p "$work/debs"
bah() { buildah --root "$work/storage" --runroot "$work/run" --storage-driver vfs "$@"; }
step() { echo "== $(date -u +%T) $*"; }

# 1. The base images, once: Debian 12 minbase, with the apt sources of Debian's own images.
make_base() {  # make_base TAG SLIM
  local tag="$1" slim="$2" root="$work/base-$1"
  if bah inspect --type image "docker.io/library/debian:$tag" >/dev/null 2>&1; then
    step "debian:$tag exists"
    return
  fi
  step "debootstrap debian:$tag"
  rm -rf "$root"
  debootstrap --variant=minbase --cache-dir="$work/debs" bookworm "$root" "$mirror" >"$work/debootstrap-$tag.log"
  rm -f "$root/etc/apt/sources.list"
  cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${mirror%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  if [ "$slim" = slim ]; then
    # As debian:*-slim: dpkg leaves out documentation, man pages and locales from now on.
    cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
EOF
    find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
    rm -rf "${root:?}"/usr/share/{man,groff,info,lintian,linda,locale}/*
  fi
  # No package lists, caches, logs, device nodes or machine identity in an image.
  rm -rf "${root:?}"/var/lib/apt/lists/* "${root:?}"/var/cache/apt/*.bin "${root:?}"/var/cache/apt/archives/*.deb \
    "${root:?}"/var/log/* "${root:?}"/dev/* "${root:?}"/tmp/* "${root:?}"/etc/machine-id "${root:?}"/etc/hostname
  tar --numeric-owner --xattrs -C "$root" -cf "$work/base-$tag.tar" .
  local ctr
  ctr=$(bah from scratch)
  bah add "$ctr" "$work/base-$tag.tar" /
  bah config --cmd '["bash"]' --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$ctr"
  bah commit --quiet --rm "$ctr" "docker.io/library/debian:$tag" >/dev/null
  rm -rf "$root" "$work/base-$tag.tar"
}
make_base bookworm full
make_base bookworm-slim slim

# 2. The Containerfile, with Bazel's disk cache from this machine mounted into the build stage.
step "buildah bud deploy/Containerfile"
cache="$HOME/.cache/cortado/bazel-disk"
mkdir -p "$cache"
start=$(date +%s)
bah bud --isolation chroot --network host --format docker --pull=never \
  --ignorefile deploy/Containerfile.dockerignore -f deploy/Containerfile \
  --volume "$cache:/root/.cache/cortado/bazel-disk" -t "$image" . >"$work/bud.log" 2>&1 || {
  tail -n 40 "$work/bud.log"
  echo "build_image: buildah bud failed; the whole log is $work/bud.log" >&2
  exit 1
}
step "built in $(($(date +%s) - start)) s"

# 3. The runtime image: every library found, each from the listed packages or the base.
ctr=$(bah from --pull=never "$image")
mnt=$(bah mount "$ctr")
if chroot "$mnt" ldd /usr/local/bin/cortadod | grep "not found"; then
  echo "build_image: libraries missing from the image" >&2
  exit 1
fi
listed=$(grep -v '^#' deploy/image/runtime-packages.txt | sort -u)
owners=$(chroot "$mnt" sh -c 'ldd /usr/local/bin/cortadod | awk "/=> \\//{print \$3}" |
  xargs -n1 readlink -f | while read -r f; do dpkg -S "$f" 2>/dev/null || dpkg -S "${f#/usr}"; done' |
  cut -d: -f1 | sort -u)
extra=$(comm -13 <(echo "$listed") <(echo "$owners") | grep -vxE 'libc6|libgcc-s1' || true)
unused=$(comm -23 <(echo "$listed") <(echo "$owners") || true)
bah umount "$ctr" >/dev/null
bah rm "$ctr" >/dev/null
[ -z "$extra" ] || { echo "build_image: cortadod links libraries of packages not listed: $extra" >&2; exit 1; }
[ -z "$unused" ] || { echo "build_image: listed packages cortadod does not link: $unused" >&2; exit 1; }
echo "runtime libraries: $(echo "$owners" | wc -l) packages, all in deploy/image/runtime-packages.txt or the base"

# 4. The image as a docker-archive (what `docker save` writes), and its size.
rm -f "$work/cortadod.tar"
bah push --quiet "$image" "docker-archive:$work/cortadod.tar:$image"
bah images --format '{{.Name}}:{{.Tag}} {{.Size}}' "$image"
base=$(bah images --format '{{.Size}}' docker.io/library/debian:bookworm-slim)
echo "base debian:bookworm-slim: $base"
echo "docker-archive: $(du -m "$work/cortadod.tar" | cut -f1) MB, gzip -1: $(gzip -1c "$work/cortadod.tar" | wc -c | awk '{printf "%.1f", $1/1048576}') MB"
echo "wrote $work/cortadod.tar"
