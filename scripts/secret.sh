#!/usr/bin/env bash
# The database password for docker-compose: db_password.txt (plain, git-ignored) and
# db_password.txt.gpg (gpg, symmetric AES-256, committed).
#
#   scripts/secret.sh new       make a fresh random password and encrypt it
#   scripts/secret.sh decrypt   decrypt the committed db_password.txt.gpg into db_password.txt
#
# The passphrase comes from DB_SECRET_PASSPHRASE or, when that is unset, a prompt on the terminal;
# it is handed to gpg on a file descriptor, never on the command line. SECRET_DIR picks the folder
# (default: the repository root).
set -euo pipefail

dir=${SECRET_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
plain="$dir/db_password.txt"
encrypted="$dir/db_password.txt.gpg"

die() { echo "secret: $*" >&2; exit 1; }
command -v gpg >/dev/null || die "gpg is not installed (Debian/Ubuntu: apt-get install gnupg; macOS: brew install gnupg)"

passphrase() {
  if [ -n "${DB_SECRET_PASSPHRASE:-}" ]; then printf '%s' "$DB_SECRET_PASSPHRASE"; return; fi
  # Opening /dev/tty (not just finding it) tells whether there is a terminal to ask on.
  { : </dev/tty; } 2>/dev/null || die "set DB_SECRET_PASSPHRASE or run this in a terminal to be asked for the passphrase"
  local first second
  read -rs -p "Passphrase: " first </dev/tty; echo >/dev/tty
  if [ "${1:-}" = confirm ]; then
    read -rs -p "Passphrase again: " second </dev/tty; echo >/dev/tty
    [ "$first" = "$second" ] || die "the passphrases differ"
  fi
  [ -n "$first" ] || die "the passphrase is empty"
  printf '%s' "$first"
}

# A throw-away gpg home: no keyring, agent or passphrase cache is touched or left behind.
GNUPGHOME=$(mktemp -d)
export GNUPGHOME
trap 'rm -rf "$GNUPGHOME"' EXIT
gpg_batch() { gpg --quiet --batch --yes --no-symkey-cache --pinentry-mode loopback --passphrase-fd 3 "$@"; }

case "${1:-}" in
  new)
    pass=$(passphrase confirm)
    # 0644: Compose bind-mounts a file secret with the host file's mode, and the app runs as uid 1000
    # inside its container. Keep the checkout itself in a private directory.
    (umask 022; node -e 'process.stdout.write(require("crypto").randomBytes(24).toString("base64url") + "\n")' >"$plain")
    gpg_batch --symmetric --cipher-algo AES256 --s2k-digest-algo SHA512 --s2k-count 65011712 \
      --output "$encrypted" "$plain" 3<<<"$pass"
    echo "secret: wrote $plain and $encrypted (commit only the .gpg file)"
    ;;
  decrypt)
    [ -f "$encrypted" ] || die "$encrypted does not exist: run '$0 new' first"
    pass=$(passphrase)
    tmp=$(mktemp "$dir/.db_password.XXXXXX")
    if ! gpg_batch --decrypt --output "$tmp" "$encrypted" 3<<<"$pass" 2>/dev/null; then
      rm -f "$tmp"
      die "cannot decrypt $encrypted: wrong passphrase or damaged file"
    fi
    chmod 0644 "$tmp"
    mv "$tmp" "$plain"
    echo "secret: wrote $plain"
    ;;
  *)
    die "usage: $0 new|decrypt"
    ;;
esac
