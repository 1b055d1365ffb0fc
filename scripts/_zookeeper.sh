# Sourced by scripts/test (not run on its own): `ensure_zookeeper` makes sure Apache
# ZooKeeper is installed where hedgerow.cluster.zkserver.LocalZooKeeper looks for it
# (Debian's `zookeeper` package: /usr/share/java/zookeeper.jar and its libraries, plus a Java runtime), so
# the cluster tests run against a real server in CI. Installs it non-interactively when
# missing (as root, or through sudo); HEDGEROW_ZOOKEEPER_HOME points at another install
# (a directory holding zookeeper*.jar, or lib/*.jar) and skips the check.
# Run under `set -euo pipefail`.

ensure_zookeeper() {
    if [ -n "${HEDGEROW_ZOOKEEPER_HOME:-}" ]; then
        return 0
    fi
    if ls /usr/share/java/zookeeper.jar >/dev/null 2>&1 && command -v java >/dev/null; then
        return 0
    fi
    if ! command -v apt-get >/dev/null; then
        echo "ensure_zookeeper: no apt-get here; install Apache ZooKeeper and set HEDGEROW_ZOOKEEPER_HOME" >&2
        return 1
    fi
    local sudo=""
    if [ "$(id -u)" != 0 ]; then
        sudo="sudo -n"
    fi
    echo "== installing Debian's zookeeper package (the cluster tests need a real ZooKeeper)"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends zookeeper \
        || { $sudo apt-get update -q && $sudo env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -q --no-install-recommends zookeeper; }
}
