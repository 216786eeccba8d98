#!/usr/bin/env bash
# The database passwords for docker-compose, each as NAME.txt (plain, git-ignored) and NAME.txt.gpg
# (gpg, symmetric AES-256, committed): db_password (the app's read-only role ctera) and
# db_admin_password (the PostgreSQL superuser, which the app never sees).
#
#   scripts/secret.sh new       make fresh random passwords and encrypt them (refuses to replace
#                               existing .gpg files unless --force is given)
#   scripts/secret.sh decrypt   decrypt the committed .gpg files into the plain ones
#   scripts/secret.sh local     random passwords in the plain files only, for someone without the team's
#                               passphrase: no gpg, the committed .gpg files untouched (refuses to replace
#                               existing plain files unless --force is given)
#
# The passphrase comes from DB_SECRET_PASSPHRASE or, when that is unset, a prompt on the terminal;
# it is handed to gpg on a file descriptor, never on the command line. SECRET_DIR picks the folder
# (default: the repository root).
set -euo pipefail

dir=${SECRET_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
names=(db_password db_admin_password)

die() { echo "secret: $*" >&2; exit 1; }

# 0644: Compose bind-mounts a file secret with the host file's mode, and the app runs as uid 1000 inside its
# container. Keep the checkout itself in a private directory.
random_password() {
  (umask 022; node -e 'process.stdout.write(require("crypto").randomBytes(24).toString("base64url") + "\n")' >"$1")
}

if [ "${1:-}" = local ]; then
  if [ "${2:-}" != --force ]; then
    for name in "${names[@]}"; do
      [ -e "$dir/$name.txt" ] && die "$dir/$name.txt exists (compose uses it); to replace both passwords, run 'npm run secret:local -- --force' (then 'docker compose down -v' for a volume made with the old ones)"
    done
  fi
  for name in "${names[@]}"; do
    random_password "$dir/$name.txt"
    echo "secret: wrote $dir/$name.txt (a random password, git-ignored; the .gpg files are untouched)"
  done
  exit 0
fi

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
    if [ "${2:-}" != --force ]; then
      for name in "${names[@]}"; do
        [ -e "$dir/$name.txt.gpg" ] && die "$dir/$name.txt.gpg exists: 'npm run secret:decrypt' uses it; to replace both passwords for good, run 'npm run secret:new -- --force' (then 'docker compose down -v' for a volume made with the old ones)"
      done
    fi
    pass=$(passphrase confirm)
    for name in "${names[@]}"; do
      plain="$dir/$name.txt"
      random_password "$plain"
      gpg_batch --symmetric --cipher-algo AES256 --s2k-digest-algo SHA512 --s2k-count 65011712 \
        --output "$plain.gpg" "$plain" 3<<<"$pass"
      echo "secret: wrote $plain and $plain.gpg (commit only the .gpg file)"
    done
    ;;
  decrypt)
    for name in "${names[@]}"; do
      [ -f "$dir/$name.txt.gpg" ] || die "$dir/$name.txt.gpg does not exist: run '$0 new' first"
    done
    pass=$(passphrase)
    for name in "${names[@]}"; do
      plain="$dir/$name.txt"
      tmp=$(mktemp "$dir/.$name.XXXXXX")
      if ! gpg_batch --decrypt --output "$tmp" "$plain.gpg" 3<<<"$pass" 2>/dev/null; then
        rm -f "$tmp"
        die "cannot decrypt $plain.gpg: wrong passphrase or damaged file"
      fi
      chmod 0644 "$tmp"
      mv "$tmp" "$plain"
      echo "secret: wrote $plain"
    done
    ;;
  *)
    die "usage: $0 new [--force] | decrypt | local [--force]"
    ;;
esac
