#!/bin/sh
# Installs a charger-agent release on the board: the release goes to
# /opt/charger-agent/releases/<version>, /opt/charger-agent/current points at it, the service
# user, its directories and a first config are created, and the unit is enabled (and started
# or restarted when systemd runs). Running it again changes nothing; --uninstall removes the
# releases and the unit but keeps the data dir, the config and the user.
#
# The release is a production tree made by `npm run release` (release/ in the checkout):
# a tree that still holds development dependencies is refused.
#
# A throwaway root (DESTDIR=/tmp/root, or --destdir): every path is under it, the user is
# created in its /etc/passwd (systemd-sysusers --root), and the running systemd is never asked
# anything. --no-systemctl does the same for the real root.
set -eu

usage() {
  cat <<'EOF'
usage: scripts/install.sh [options]
  --destdir DIR          install under DIR instead of / (default: $DESTDIR)
  --from DIR             the release (default: the directory holding scripts/install.sh);
                         made by `npm run release`: package.json, dist/, and
                         node_modules/ with the production dependencies only
  --node PATH            node binary for the unit's ExecStart (default: node on PATH);
                         resolved through symlinks, and refused under /home, /root or
                         /run/user (ProtectHome=yes hides them from the service)
  --no-systemctl         do not talk to the running systemd (no reload, start or restart)
  --uninstall            remove releases, unit and links; keep data dir, config and user
  first config only (an existing /etc/charger-agent/config.json is never changed):
  --charge-point-id ID   OCPP identity, 1..48 of A-Z a-z 0-9 . _ ~ - (default CP-CHANGE-ME)
  --csms-url URL         ws:// or wss:// base URL of the CSMS (default ws://csms.invalid/ocpp)
  --security-profile N   0 none, 1 Basic Auth, 2 TLS + Basic Auth (wss://), 3 TLS with a
                         client certificate (wss://, needs --client-cert and --client-key) (default 0)
  --password-stdin       read the Basic Auth password (16..40 printable ASCII) from stdin,
                         one line; prompted for without echo on a terminal. Without it,
                         profiles 1 and 2 use the AuthorizationKey the CSMS (or diag) sets
  --ca-file FILE         PEM CA certificate(s) to trust for wss://, copied to
                         /etc/charger-agent/csms-ca.pem (default: the system CAs)
  --client-cert FILE     profile 3: the charge point's PEM certificate (chain allowed), copied
                         to /etc/charger-agent/client-cert.pem
  --client-key FILE      profile 3: its unencrypted PEM private key, copied to
                         /etc/charger-agent/client-key.pem (0640 root:charger-agent, as the config)
  --serial-port DEV      the charge controller's UART (default /dev/ttyS1)
  --max-current A        the installation's per-phase limit, 6..80 A (default 32)
  --vendor NAME          BootNotification vendor, 1..20 characters (default Vendor)
  --model NAME           BootNotification model, 1..20 characters (default Model)
  --serial-number SN     charge point serial number, 1..25 characters (default: none)
example:
  printf '%s\n' "$PASSWORD" | sudo release/scripts/install.sh --charge-point-id CP-0042 \
    --csms-url wss://csms.example.com/ocpp --security-profile 2 --password-stdin \
    --serial-port /dev/ttyS1 --vendor Acme --model AC22 --serial-number SN0042
EOF
}

say() { printf 'install: %s\n' "$*"; }
die() { printf 'install: error: %s\n' "$*" >&2; exit 1; }

NAME=charger-agent
# Members may use the diagnostics socket; the service's own group (which reads the config) has none.
ADMIN_GROUP=$NAME-admin
ROOT=${DESTDIR:-}
FROM=
NODE_BIN=
NO_SYSTEMCTL=0
UNINSTALL=0
CPID=CP-CHANGE-ME
CSMS_URL=ws://csms.invalid/ocpp
SERIAL_PORT=/dev/ttyS1
VENDOR=Vendor
MODEL=Model
SECURITY_PROFILE=0
PASSWORD_STDIN=0
CA_FILE=
CLIENT_CERT=
CLIENT_KEY=
MAX_CURRENT=32
SERIAL_NUMBER=
# Config settings not given (left at their defaults), named when the config is written.
PLACEHOLDERS="chargePointId csms.url controller.port identity.vendor identity.model"
given() { PLACEHOLDERS=$(printf '%s\n' $PLACEHOLDERS | grep -vx "$1" | tr '\n' ' '); }

while [ $# -gt 0 ]; do
  case $1 in
    --destdir) [ $# -ge 2 ] || die "$1 needs a value"; ROOT=$2; shift 2 ;;
    --from) [ $# -ge 2 ] || die "$1 needs a value"; FROM=$2; shift 2 ;;
    --node) [ $# -ge 2 ] || die "$1 needs a value"; NODE_BIN=$2; shift 2 ;;
    --no-systemctl) NO_SYSTEMCTL=1; shift ;;
    --uninstall) UNINSTALL=1; shift ;;
    --charge-point-id) [ $# -ge 2 ] || die "$1 needs a value"; CPID=$2; given chargePointId; shift 2 ;;
    --csms-url) [ $# -ge 2 ] || die "$1 needs a value"; CSMS_URL=$2; given csms.url; shift 2 ;;
    --serial-port) [ $# -ge 2 ] || die "$1 needs a value"; SERIAL_PORT=$2; given controller.port; shift 2 ;;
    --vendor) [ $# -ge 2 ] || die "$1 needs a value"; VENDOR=$2; given identity.vendor; shift 2 ;;
    --model) [ $# -ge 2 ] || die "$1 needs a value"; MODEL=$2; given identity.model; shift 2 ;;
    --security-profile) [ $# -ge 2 ] || die "$1 needs a value"; SECURITY_PROFILE=$2; shift 2 ;;
    --password-stdin) PASSWORD_STDIN=1; shift ;;
    --ca-file) [ $# -ge 2 ] || die "$1 needs a value"; CA_FILE=$2; [ -n "$CA_FILE" ] || die "--ca-file needs a file"; shift 2 ;;
    --client-cert) [ $# -ge 2 ] || die "$1 needs a value"; CLIENT_CERT=$2; [ -n "$CLIENT_CERT" ] || die "--client-cert needs a file"; shift 2 ;;
    --client-key) [ $# -ge 2 ] || die "$1 needs a value"; CLIENT_KEY=$2; [ -n "$CLIENT_KEY" ] || die "--client-key needs a file"; shift 2 ;;
    --max-current) [ $# -ge 2 ] || die "$1 needs a value"; MAX_CURRENT=$2; shift 2 ;;
    --serial-number) [ $# -ge 2 ] || die "$1 needs a value"; SERIAL_NUMBER=$2; [ -n "$SERIAL_NUMBER" ] || die "--serial-number needs a value"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
  esac
done

# "/" and "" both mean the real root.
ROOT=${ROOT%/}
if [ -n "$ROOT" ]; then
  mkdir -p "$ROOT"
  ROOT=$(cd "$ROOT" && pwd)
  [ "$ROOT" = / ] && ROOT=
fi
# Only the real root with a running systemd is ever told anything.
LIVE=0
if [ -z "$ROOT" ] && [ "$NO_SYSTEMCTL" = 0 ] && [ -d /run/systemd/system ]; then LIVE=1; fi

HERE=$(cd "$(dirname "$0")" && pwd)
SRC_DIR=$(cd "$HERE/.." && pwd)
OPT=$ROOT/opt/$NAME
UNIT=$ROOT/etc/systemd/system/$NAME.service
WANTS=$ROOT/etc/systemd/system/multi-user.target.wants/$NAME.service
SYSUSERS=$ROOT/etc/sysusers.d/$NAME.conf
TMPFILES=$ROOT/etc/tmpfiles.d/$NAME.conf
CONFIG=$ROOT/etc/$NAME/config.json
DATA=$ROOT/var/lib/$NAME

# Copy $1 to $2 only when the content differs (so a second run leaves mtimes alone); sets CHANGED.
install_file() {
  if [ -f "$2" ] && cmp -s "$1" "$2"; then CHANGED=0; return; fi
  mkdir -p "$(dirname "$2")"
  cp "$1" "$2.tmp.$$"
  chmod "$3" "$2.tmp.$$"
  mv -f "$2.tmp.$$" "$2"
  CHANGED=1
  say "wrote ${2#"$ROOT"}"
}

# Disk usage of a directory, for the log ("14.6 MiB").
size_of() {
  du -sk "$1" | awk '{ printf "%.1f MiB", $1 / 1024 }'
}

# Point symlink $2 at $1 unless it already does.
link() {
  if [ -L "$2" ] && [ "$(readlink "$2")" = "$1" ]; then return 1; fi
  mkdir -p "$(dirname "$2")"
  ln -sfn "$1" "$2.tmp.$$"
  # Atomic switch; -T so an existing link to a directory is replaced, not moved into.
  # (Without GNU mv -T: a plain ln -sfn, not atomic but correct.)
  mv -Tf "$2.tmp.$$" "$2" 2>/dev/null || { rm -f "$2.tmp.$$"; ln -sfn "$1" "$2"; }
  say "linked ${2#"$ROOT"} -> $1"
  return 0
}

# id of user/group $2 (passwd|group) in the target root.
lookup_id() {
  if [ -z "$ROOT" ]; then
    getent "$1" "$2" | cut -d: -f3
  elif [ -f "$ROOT/etc/$1" ]; then
    awk -F: -v n="$2" '$1 == n { print $3 }' "$ROOT/etc/$1"
  fi
}

# Is $1 a member of group $2 in the target root?
in_group() {
  if [ -z "$ROOT" ]; then
    id -nG "$1" 2>/dev/null | tr ' ' '\n' | grep -qx "$2"
  else
    [ -f "$ROOT/etc/group" ] && awk -F: -v g="$2" -v u="$1" '$1 == g { n = split($4, m, ","); for (i = 1; i <= n; i++) if (m[i] == u) found = 1 } END { exit !found }' "$ROOT/etc/group"
  fi
}

systemctl_live() {
  [ "$LIVE" = 1 ] || return 0
  systemctl "$@"
}

# ---------------------------------------------------------------- uninstall
if [ "$UNINSTALL" = 1 ]; then
  if [ "$LIVE" = 1 ] && [ -f "$UNIT" ]; then
    systemctl disable --now "$NAME.service" || true
  fi
  for f in "$WANTS" "$UNIT" "$SYSUSERS" "$TMPFILES"; do
    if [ -e "$f" ] || [ -L "$f" ]; then rm -f "$f"; say "removed ${f#"$ROOT"}"; fi
  done
  if [ -e "$OPT" ]; then rm -rf "$OPT"; say "removed /opt/$NAME"; fi
  systemctl_live daemon-reload
  say "kept /var/lib/$NAME (data), /etc/$NAME (config), the $NAME user and the $ADMIN_GROUP group; remove them by hand to purge"
  exit 0
fi

# ---------------------------------------------------------------- install
FROM=${FROM:-$SRC_DIR}
[ -d "$FROM" ] || die "no release at $FROM"
FROM=$(cd "$FROM" && pwd)
for need in package.json dist/src/cli.js dist/src/launcher/launcher.js node_modules; do
  [ -e "$FROM/$need" ] || die "$FROM is not a built release: $need is missing (make one with npm run release)"
done
# A source checkout's node_modules carries the compiler and the test runner (100+ MB) that the
# board never runs: install the production tree `npm run release` makes instead.
dev_deps=$(node -e '
  const { existsSync, readFileSync } = require("fs");
  const [from] = process.argv.slice(1);
  const dev = Object.keys(JSON.parse(readFileSync(from + "/package.json", "utf8")).devDependencies || {});
  process.stdout.write(dev.filter((d) => existsSync(from + "/node_modules/" + d)).join(" "));
' "$FROM") || die "cannot read $FROM/package.json"
[ -z "$dev_deps" ] ||
  die "$FROM/node_modules holds development dependencies ($dev_deps): make the production tree with npm run release, then run release/scripts/install.sh"
# The node that ExecStart names. Found on PATH or given with --node on this machine, it is
# resolved through its symlinks (nvm, alternatives). Given with --node for another root
# (--destdir), it names a file in that root and is taken as it is. Either way it must be
# absolute, outside what ProtectHome=yes hides from the service, and plain enough for sed and
# for a unit file (where spaces split arguments and % starts a specifier).
if [ -z "$NODE_BIN" ]; then
  NODE_BIN=$(command -v node || true)
  [ -n "$NODE_BIN" ] || die "node not found on PATH (pass --node PATH)"
  RESOLVE_NODE=1
elif [ -z "$ROOT" ]; then
  RESOLVE_NODE=1
else
  RESOLVE_NODE=0
fi
if [ "$RESOLVE_NODE" = 1 ]; then
  resolved=$(readlink -f "$NODE_BIN" 2>/dev/null || true)
  if [ -z "$resolved" ] || [ ! -f "$resolved" ] || [ ! -x "$resolved" ]; then die "node '$NODE_BIN' is not an executable file (pass --node PATH)"; fi
  NODE_BIN=$resolved
fi
case $NODE_BIN in
  /*) ;;
  *) die "node '$NODE_BIN' is not an absolute path, which ExecStart needs (pass --node /usr/bin/node or the like)" ;;
esac
case /$NODE_BIN/ in
  */./*|*/../*) die "node path '$NODE_BIN' has . or .. in it: give the plain absolute path" ;;
esac
case $NODE_BIN in
  /home/*|/root/*|/run/user/*)
    die "node at $NODE_BIN is in a home directory (nvm?), which the unit's ProtectHome=yes hides from the service: install node system-wide (e.g. /usr/bin/node or /usr/local/bin/node) and pass --node PATH" ;;
esac
case $NODE_BIN in
  *[!A-Za-z0-9/._+-]*) die "node path '$NODE_BIN' has characters a unit's ExecStart cannot take as they are (use only letters, digits and / . _ + -)" ;;
esac
VERSION=$(node -e 'process.stdout.write(String(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).version))' "$FROM/package.json") ||
  die "cannot read the version from $FROM/package.json"
case $VERSION in
  ''|*[!0-9A-Za-z.+-]*) die "unexpected version '$VERSION' in $FROM/package.json" ;;
esac

# The config settings are checked before anything is changed (one line and exit 1 when bad).
# The password goes from stdin to the checker through a pipe: never in an argument list.
PASSWORD=
if [ "$PASSWORD_STDIN" = 1 ]; then
  if [ -t 0 ]; then
    # Echo off before the prompt, and back on however the prompt ends (Ctrl-C included).
    trap 'stty echo; exit 130' INT TERM
    stty -echo
    printf 'Basic Auth password: ' >&2
    IFS= read -r PASSWORD || true
    stty echo
    trap - INT TERM
    printf '\n' >&2
  else
    IFS= read -r PASSWORD || true
  fi
fi
LOADER=
[ -f "$FROM/dist/src/config/agent-config.js" ] && LOADER=$FROM/dist/src/config/agent-config.js
# printf is a shell builtin: the password is not passed to another program's argv.
CONFIG_JSON=$(printf '%s\n' "$PASSWORD" | node "$HERE/install-config.mjs" \
  --charge-point-id "$CPID" --csms-url "$CSMS_URL" --security-profile "$SECURITY_PROFILE" \
  --password-stdin "$PASSWORD_STDIN" --ca-file "$CA_FILE" --ca-dest "/etc/$NAME/csms-ca.pem" \
  --client-cert "$CLIENT_CERT" --client-cert-dest "/etc/$NAME/client-cert.pem" \
  --client-key "$CLIENT_KEY" --client-key-dest "/etc/$NAME/client-key.pem" \
  --serial-port "$SERIAL_PORT" --max-current "$MAX_CURRENT" --vendor "$VENDOR" --model "$MODEL" \
  --serial-number "$SERIAL_NUMBER" ${LOADER:+--loader "$LOADER"}) || exit 1
PASSWORD=

ITEMS="package.json package-lock.json dist node_modules hal/sim/pty-relay.py systemd scripts README.md LICENSE CHANGELOG.md config.example.json docs"
REL=$OPT/releases/$VERSION

tmp_pkg=$(mktemp)
trap 'rm -f "$tmp_pkg"' EXIT

# 1. The release: left alone when identical, else staged beside and swapped in.
same=0
if [ -d "$REL" ]; then
  same=1
  for item in $ITEMS; do
    if [ -e "$FROM/$item" ]; then
      diff -rq --no-dereference "$FROM/$item" "$REL/$item" >/dev/null 2>&1 || { same=0; break; }
    fi
  done
fi
RELEASE_CHANGED=0
if [ "$same" = 1 ]; then
  say "release $VERSION already installed ($(size_of "$REL"))"
else
  stage=$OPT/releases/.$VERSION.new.$$
  rm -rf "$stage"
  mkdir -p "$stage"
  for item in $ITEMS; do
    if [ -e "$FROM/$item" ]; then
      mkdir -p "$stage/$(dirname "$item")"
      cp -a "$FROM/$item" "$stage/$item"
    fi
  done
  if [ "$(id -u)" = 0 ]; then chown -R 0:0 "$stage"; fi
  chmod 0755 "$stage"
  if [ -d "$REL" ]; then mv "$REL" "$OPT/releases/.$VERSION.old.$$"; fi
  mv "$stage" "$REL"
  rm -rf "$OPT/releases/.$VERSION.old.$$"
  RELEASE_CHANGED=1
  say "installed release $VERSION in /opt/$NAME/releases/$VERSION ($(size_of "$REL"))"
fi
if link "releases/$VERSION" "$OPT/current"; then RELEASE_CHANGED=1; fi
# The launcher (ExecStart) belongs to no release: it starts current/ and rolls a failed update back.
for f in "$FROM"/dist/src/launcher/*.js; do
  install_file "$f" "$OPT/bin/$(basename "$f")" 0644
done
printf '{ "type": "module" }\n' >"$tmp_pkg"
install_file "$tmp_pkg" "$OPT/bin/package.json" 0644

# 2. The unit (ExecStart names this board's node), the user and the directories.
tmp=$(mktemp)
trap 'rm -f "$tmp" "$tmp_pkg"' EXIT
# Escaped for the replacement side of s### (the checks above already keep these characters out).
node_sed=$(printf '%s\n' "$NODE_BIN" | sed 's/[\\&#]/\\&/g')
sed "s#^ExecStart=/usr/bin/node #ExecStart=$node_sed #" "$FROM/systemd/$NAME.service" >"$tmp"
install_file "$tmp" "$UNIT" 0644
UNIT_CHANGED=$CHANGED
install_file "$FROM/systemd/$NAME.sysusers.conf" "$SYSUSERS" 0644
install_file "$FROM/systemd/$NAME.tmpfiles.conf" "$TMPFILES" 0644

if [ -n "$(lookup_id passwd "$NAME")" ] && [ -n "$(lookup_id group "$ADMIN_GROUP")" ] && in_group "$NAME" dialout && in_group "$NAME" gpio; then
  :
elif command -v systemd-sysusers >/dev/null 2>&1; then
  if [ -n "$ROOT" ]; then systemd-sysusers --root="$ROOT" "$NAME.conf"; else systemd-sysusers "$NAME.conf"; fi
elif [ -z "$ROOT" ]; then
  getent group gpio >/dev/null || groupadd --system gpio
  getent group "$ADMIN_GROUP" >/dev/null || groupadd --system "$ADMIN_GROUP"
  getent group "$NAME" >/dev/null || groupadd --system "$NAME"
  getent passwd "$NAME" >/dev/null ||
    useradd --system --gid "$NAME" --home-dir "/var/lib/$NAME" --no-create-home --shell /usr/sbin/nologin "$NAME"
  usermod -a -G dialout,gpio "$NAME"
else
  die "systemd-sysusers is needed to create the $NAME user under $ROOT"
fi
uid=$(lookup_id passwd "$NAME")
gid=$(lookup_id group "$NAME")
if [ -z "$uid" ] || [ -z "$gid" ]; then die "the $NAME user was not created"; fi
[ -n "$(lookup_id group "$ADMIN_GROUP")" ] || die "the $ADMIN_GROUP group was not created"

# Updates over OCPP are installed by the service itself (src/firmware/install.ts): it adds
# releases beside this one, stages them in staging/, keeps the update state in state/ and swaps
# `current` in the install root. Those are the service group's to write; the releases install.sh
# puts there and bin/ (the launcher) stay root's.
mkdir -p "$OPT/staging" "$OPT/state"
if [ "$(id -u)" = 0 ]; then
  chown "0:$gid" "$OPT" "$OPT/releases"
  chmod 0775 "$OPT" "$OPT/releases"
  chown "$uid:$gid" "$OPT/staging" "$OPT/state"
  chmod 0750 "$OPT/staging" "$OPT/state"
fi

if command -v systemd-tmpfiles >/dev/null 2>&1; then
  if [ -n "$ROOT" ]; then systemd-tmpfiles --root="$ROOT" --create "$NAME.conf"; else systemd-tmpfiles --create "$NAME.conf"; fi
else
  mkdir -p "$ROOT/etc/$NAME" "$DATA"
  chown "0:$gid" "$ROOT/etc/$NAME" && chmod 0750 "$ROOT/etc/$NAME"
  chown "$uid:$gid" "$DATA" && chmod 0700 "$DATA"
fi

# 3. A first config; an existing one is the installer's and is never touched.
if [ -e "$CONFIG" ]; then
  say "kept /etc/$NAME/config.json as it is (the config settings given, if any, are not applied to an existing file)"
else
  if [ -n "$CA_FILE" ]; then
    install_file "$CA_FILE" "$ROOT/etc/$NAME/csms-ca.pem" 0644
  fi
  if [ -n "$CLIENT_CERT" ]; then
    install_file "$CLIENT_CERT" "$ROOT/etc/$NAME/client-cert.pem" 0644
    # The private key as the config: readable by root and the service group only, never by
    # others, not even while it is written.
    key=$ROOT/etc/$NAME/client-key.pem
    (umask 077 && cp "$CLIENT_KEY" "$key.tmp.$$")
    chown "0:$gid" "$key.tmp.$$"
    chmod 0640 "$key.tmp.$$"
    mv "$key.tmp.$$" "$key"
    say "wrote /etc/$NAME/client-key.pem"
  fi
  # umask: the file holds the password, so it is never readable by others, not even while written.
  (umask 077 && printf '%s\n' "$CONFIG_JSON" >"$CONFIG.tmp.$$")
  chown "0:$gid" "$CONFIG.tmp.$$"
  chmod 0640 "$CONFIG.tmp.$$"
  mv "$CONFIG.tmp.$$" "$CONFIG"
  if [ -n "$PLACEHOLDERS" ]; then
    say "wrote /etc/$NAME/config.json; not given, so at their defaults: $(echo $PLACEHOLDERS | sed 's/ /, /g') (change them in that file if they are wrong, then restart the service)"
  else
    say "wrote /etc/$NAME/config.json"
  fi
  case $SECURITY_PROFILE in
    1|2) if [ "$PASSWORD_STDIN" = 0 ]; then say "no Basic Auth password given: the agent uses the AuthorizationKey; set it with: charger-agent diag config set AuthorizationKey - (the key on stdin)"; fi ;;
  esac
fi
CONFIG_JSON=

# 4. Enabled = the WantedBy link (made by hand, so a throwaway root needs no systemctl).
link "/etc/systemd/system/$NAME.service" "$WANTS" || true
if [ "$LIVE" = 1 ]; then
  [ "$UNIT_CHANGED" = 0 ] || systemctl daemon-reload
  if ! systemctl is-active --quiet "$NAME.service"; then
    systemctl start "$NAME.service"
    say "started $NAME.service"
  elif [ "$RELEASE_CHANGED" = 1 ] || [ "$UNIT_CHANGED" = 1 ]; then
    systemctl restart "$NAME.service"
    say "restarted $NAME.service"
  fi
elif [ -z "$ROOT" ]; then
  say "systemd not asked (--no-systemctl or not running): start it with systemctl start $NAME"
fi
say "done: $NAME $VERSION (diagnostics for an administrator: usermod -aG $ADMIN_GROUP USER; never add people to the $NAME group, it reads the config)"
