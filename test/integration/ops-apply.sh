#!/bin/sh
# ops-apply.sh: `qoestor-config apply` and `status`.
#
# 1. Without systemd (this CI: no systemd as PID 1; and a PATH without
#    systemctl) a 3-DPI config's --dry-run lists 3 x 4 receiver units and says
#    clearly that systemd is absent; a real apply changes nothing and exits 3.
# 2. Against a recording systemctl stand-in (QOESTOR_SYSTEMCTL; a shell script
#    that logs its arguments and keeps unit states in files) the apply logic:
#    12 units enabled, a second apply changes no receiver, a changed port
#    restarts only that receiver, removing a DPI disables its 4 units, a port
#    below 1024 gets the capability drop-in, log_dir gets log drop-ins.
. "$(dirname "$0")/../lib.sh"
C="$QOESTOR_BIN/qoestor-config"

three() { # port-of-dpi0-fullflow: a 3-DPI config with the four streams each
	cat <<YAML
receivers:
  - dpi: 0
    fullflow: {port: $1}
    clickstream: {}
    gtpflow: {}
    natflow: {}
  - dpi: 1
    listen: 0.0.0.0
    fullflow: {}
    clickstream: {}
    gtpflow: {}
    natflow: {}
  - dpi: 2
    fullflow: {}
    clickstream: {}
    gtpflow: {}
    natflow: {transport: udp}
paths:
  spool: $T/spool
YAML
}
three 1500 > "$T/three.yaml"

note "dry run without systemd"
"$C" --config "$T/three.yaml" apply --dry-run --state-dir "$T/state" > "$T/dry.out" 2>&1 || { cat "$T/dry.out"; fail "dry run exited $?"; }
expect_eq "$(grep -c '^  enable    qoestor-recv@' "$T/dry.out")" 12 "receiver units in the plan"
for d in 0 1 2; do for s in fullflow clickstream gtpflow natflow; do
	grep -q "enable    qoestor-recv@$s-$d.service" "$T/dry.out" || fail "plan lacks qoestor-recv@$s-$d"
done; done
grep -q "qoestor-recv@fullflow-1.service: tcp 0.0.0.0:1510" "$T/dry.out" || fail "plan does not show DPI 1's address"
grep -q "qoestor-recv@natflow-2.service: udp 127.0.0.1:1523" "$T/dry.out" || fail "plan does not show udp"
grep -q "systemd is absent: " "$T/dry.out" || { cat "$T/dry.out"; fail "no clear 'systemd is absent' line"; }
grep -q "Nothing was changed" "$T/dry.out" || fail "dry run does not say nothing changed"
[ ! -e "$T/state" ] || fail "dry run wrote state"
mkdir -p "$T/emptypath"
rc=0
PATH="$T/emptypath" "$C" --config "$T/three.yaml" apply --state-dir "$T/state" > "$T/nosd.out" 2>&1 || rc=$?
expect_eq "$rc" 3 "apply without systemctl: exit code"
grep -q "systemctl is not installed (not found in PATH)" "$T/nosd.out" || { cat "$T/nosd.out"; fail "message without systemctl"; }

note "apply against a recording systemctl"
mkdir -p "$T/sd" "$T/units"
cat > "$T/systemctl" <<'SH'
#!/bin/sh
# A stand-in for systemctl: logs each call, keeps "active" units as files.
sd=$(dirname "$0")/sd
echo "$*" >> "$sd/calls"
case "$1" in
is-active) [ "$2" = --quiet ] && u=$3 || u=$2
	if [ -e "$sd/$u" ]; then echo active; exit 0; else echo inactive; exit 3; fi ;;
enable) touch "$sd/$3" ;;
restart) touch "$sd/$2" ;;
disable) rm -f "$sd/$3" ;;
list-units) for f in "$sd"/qoestor-recv@*; do [ -e "$f" ] && echo "$(basename "$f") loaded active running x"; done; exit 0 ;;
daemon-reload) ;;
*) echo "unexpected: $*" >&2; exit 1 ;;
esac
SH
chmod +x "$T/systemctl"
export QOESTOR_SYSTEMCTL="$T/systemctl" QOESTOR_UNIT_DIR="$T/units"
ap() { "$C" --config "$T/three.yaml" apply --state-dir "$T/state" > "$T/$1.out" 2>&1 || { cat "$T/$1.out"; fail "apply $1 exited $?"; }; : > "$T/sd/calls.$1"; mv "$T/sd/calls" "$T/sd/calls.$1"; }
ap first
expect_eq "$(grep -c '^enable --now qoestor-recv@' "$T/sd/calls.first")" 12 "units enabled by the first apply"
grep -q '^enable --now qoestor-db.service' "$T/sd/calls.first" || fail "qoestor-db not enabled"
grep -q '^enable --now qoestor-loader.service' "$T/sd/calls.first" || fail "loader not started"
grep -q '^enable --now qoestor-dict-watch.service' "$T/sd/calls.first" || fail "dictionary watcher not started"
grep -q '^daemon-reload' "$T/sd/calls.first" || fail "no daemon-reload"
grep -q "12 receiver unit(s) configured" "$T/first.out" || fail "summary line"
[ -s "$T/state/qoestor-recv@fullflow-0.service.args" ] || fail "no recorded command line"

ap second
if grep -v '^is-active' "$T/sd/calls.second" | grep -q 'qoestor-recv@'; then fail "second apply touched receivers"; fi
expect_eq "$(grep -c '^unchanged qoestor-recv@\|^  unchanged qoestor-recv@' "$T/second.out")" 12 "unchanged receivers"
grep -q '^restart qoestor-loader.service' "$T/sd/calls.second" || fail "the loader is restarted by every apply"

note "a changed port restarts only that receiver"
three 1600 > "$T/three.yaml"
ap third
expect_eq "$(grep -c '^restart qoestor-recv@' "$T/sd/calls.third")" 1 "receivers restarted"
grep -q '^restart qoestor-recv@fullflow-0.service' "$T/sd/calls.third" || fail "fullflow-0 not restarted"
grep -q 'restart   qoestor-recv@fullflow-0.service: its settings changed' "$T/third.out" || fail "report of the restart"

note "a removed DPI: its units are stopped and disabled"
three 1600 | awk '/- dpi: 2/{skip=1} /^paths:/{skip=0} !skip' > "$T/three.yaml"
ap fourth
expect_eq "$(grep -c '^disable --now qoestor-recv@.*-2.service' "$T/sd/calls.fourth")" 4 "DPI 2 units disabled"
grep -q 'disable   qoestor-recv@natflow-2.service: no longer configured' "$T/fourth.out" || fail "report of the removal"

note "low port: CAP_NET_BIND_SERVICE drop-in for that unit only; log_dir drop-ins"
three 514 | awk '/- dpi: 2/{skip=1} /^paths:/{skip=0} !skip' > "$T/three.yaml"
printf '  log_dir: %s/log\n' "$T" >> "$T/three.yaml"
ap fifth
grep -q "AmbientCapabilities=CAP_NET_BIND_SERVICE" "$T/units/qoestor-recv@fullflow-0.service.d/50-qoestor-lowport.conf" || fail "no capability drop-in"
[ ! -e "$T/units/qoestor-recv@clickstream-0.service.d/50-qoestor-lowport.conf" ] || fail "capability given to a unit on a high port"
grep -q "StandardOutput=append:$T/log/%N.log" "$T/units/qoestor-recv@.service.d/50-qoestor-log.conf" || fail "no log drop-in"
three 1500 | awk '/- dpi: 2/{skip=1} /^paths:/{skip=0} !skip' > "$T/three.yaml"
ap sixth
[ ! -e "$T/units/qoestor-recv@fullflow-0.service.d/50-qoestor-lowport.conf" ] || fail "capability drop-in kept after the port moved up"
[ ! -e "$T/units/qoestor-recv@.service.d/50-qoestor-log.conf" ] || fail "log drop-in kept after log_dir was removed"

note "status: unit state, address, listening, spool backlog"
mkdir -p "$T/spool/fullflow/0"
: > "$T/spool/fullflow/0/fullflow-0-20240105T101500Z-fullflow-0-9f3c01aa-r1704450300.qsp"
"$C" --config "$T/three.yaml" status > "$T/status.out" 2>&1 || { cat "$T/status.out"; fail "status failed"; }
grep -q "qoestor-recv@fullflow-0 *active *tcp 127.0.0.1:1500 *NO *backlog 1 file" "$T/status.out" || { cat "$T/status.out"; fail "status line of fullflow-0"; }
grep -q "qoestor-recv@clickstream-1 *active *tcp 0.0.0.0:1511" "$T/status.out" || fail "status line of clickstream-1"
echo "ops-apply: ok"
