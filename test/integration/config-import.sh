#!/bin/sh
# config-import.sh: `qoestor-config import-env` on the vendor manual's .env
# examples, copied verbatim from its Configuration section (the default file
# with its commented defaults and its two key lines without '=', the
# several-DPI example, the CIDR modes example, the export example). Each YAML
# must pass `qoestor-config check` and give the same ports, transports, modes
# and export targets (read back through the command lines the units run).
. "$(dirname "$0")/../lib.sh"
C="$QOESTOR_BIN/qoestor-config"

cat > "$T/default.env" <<'ENV'
#Ipfix form DPI 0
IPFIX_FULLFLOW_PORT_TYPE[0]=tcp
IPFIX_FULLFLOW_PORT[0]=1500
#IPFIX_FULLFLOW_ROTATE_MINUTES[0]=10
#IPFIX_FULLFLOW_ROTATE_DELAY_SECONDS[0]=0
#IPFIX_FULLFLOW_FW_MAX_QUEUE_SIZE[0]=10
#IPFIX_FULLFLOW_DUMP_INSERT_PROCESSES[0]=0
#IPFIX_FULLFLOW_EXPORT[0]=10.0.0.2/9920/tcp,10.0.0.3/3440/udp

IPFIX_CLICKSTREAM_PORT_TYPE[0]=tcp
IPFIX_CLICKSTREAM_PORT[0]=1501
#IPFIX_CLICKSTREAM_ROTATE_MINUTES[0]=12
#IPFIX_CLICKSTREAM_ROTATE_DELAY_SECONDS[0]=400
#IPFIX_CLICKSTREAM_FW_MAX_QUEUE_SIZE[0]=10
#IPFIX_CLICKSTREAM_DUMP_INSERT_PROCESSES[0]=0
#IPFIX_CLICKSTREAM_EXPORT[0]=10.0.0.2/9921/tcp,10.0.0.3/3441/udp

IPFIX_GTPFLOW_PORT_TYPE[0]=tcp
IPFIX_GTPFLOW_PORT[0]=1502
#IPFIX_GTPFLOW_ROTATE_MINUTES[0]=10
#IPFIX_GTPFLOW_ROTATE_DELAY_SECONDS[0]=0
#IPFIX_GTPFLOW_FW_MAX_QUEUE_SIZE[0]=10
#IPFIX_GTPFLOW_DUMP_INSERT_PROCESSES[0]=0
#IPFIX_GTPFLOW_EXPORT[0]=10.0.0.2/9921/tcp,10.0.0.3/3441/udp

IPFIX_NATFLOW_PORT_TYPE[0]=tcp
IPFIX_NATFLOW_PORT[0]=1503
#IPFIX_NATFLOW_ROTATE_MINUTES[0]=10
#IPFIX_NATFLOW_ROTATE_DELAY_SECONDS[0]=0
#IPFIX_NATFLOW_FW_MAX_QUEUE_SIZE[0]=10
#IPFIX_NATFLOW_DUMP_INSERT_PROCESSES[0]=0
#IPFIX_NATFLOW_EXPORT[0]=10.0.0.2/9921/tcp,10.0.0.3/3441/udp

#Traffic direction definition
# 0 - as is
# 1 - by AS (for fullflow only)
# 2 - by CIDR (for fullflow and clickstream)
# 3 - by both: AS and CIDR
# 4 - any: AS or CIDR
TRAFFIC_DIR_DEF_MODE=0

#Subscriber filter
# 0 - no filter
# 1 - by AS (for fullflow only)
# 2 - by CIDR (for fullflow and clickstream)
# 3 - by both: AS and CIDR
# 4 - any: AS or CIDR
SUBSCRIBER_FILTER_MODE=0

#Subscriber exclude
# 0 - no exclude
# 1 - by AS (for fullflow only)
# 2 - by CIDR (for fullflow and clickstream)
# 3 - by both: AS and CIDR
# 4 - any: AS or CIDR
SUBSCRIBER_EXCLUDE_MODE=0
#Enable host (url) categories dics autoload
URLS_CATEGORIES_DIC_AUTOLOAD_ENABLED=1

#Enable asnum dic autoload
ASNUM_DIC_AUTOLOAD_ENABLED=1

#Enable auto replacing Login with vchannel on insert
# 0 - Disabled
# 1 - Enabled
# 2 - Enabled if Login is empty
ULR_REPLACE_LOGIN_WITH_VCHANNEL=0

# Use dictionary when replacing login
ULR_USE_DIC_WHEN_REPLACING_LOGIN=0

# Enable autoload of vchannel_name_dic
ULR_VCHANNEL_NAME_DIC_AUTOLOAD_ENABLED=0

# vchannel_name_dic remote url
ULR_VCHANNEL_NAME_DIC_URL=

#Import NAT events from fullflow
NAT_IMPORT_FROM_FULLFLOW
# 0 - Disabled
# 1 - Enabled

#Fields to save when aggregating NAT log (bitmask)
# 0x1 - Save protocol ID
# 0x2 - Save event type,
# 0x4 - Save source ipv4,
# 0x8 - Save source port,
# 0x10 - Save destination ipv4,
# 0x20 - Save destination port,
# 0x40 - Save post NAT source ipv4,
# 0x80 - Save post NAT source_port,
# 0x100 - Save session ID,
# 0x200 - Save login,
# 0x400 - Save DPI ID
NAT_AGG_LOG_FIELDS_TO_SAVE_BITMASK=0

#Time interval for aggregating NAT logs
NAT_AGG_LOG_GROUP_TIME_INTERVAL
# 1 - 1 minute
# 5 - 5 minutes
# 10 - 10 minutes
# 15 - 15 minutes
# 30 - 30 minutes
# 60 - 60 minutes
ENV

cat > "$T/multi.env" <<'ENV'
#Ipfix form DPI 0
IPFIX_FULLFLOW_PORT_TYPE[0]=tcp
IPFIX_FULLFLOW_PORT[0]=1500

IPFIX_CLICKSTREAM_PORT_TYPE[0]=tcp
IPFIX_CLICKSTREAM_PORT[0]=1501

#Ipfix form DPI 1
IPFIX_FULLFLOW_PORT_TYPE[1]=tcp
IPFIX_FULLFLOW_PORT[1]=1510

IPFIX_CLICKSTREAM_PORT_TYPE[1]=tcp
IPFIX_CLICKSTREAM_PORT[1]=1511

#Ipfix form DPI 2
IPFIX_FULLFLOW_PORT_TYPE[2]=tcp
IPFIX_FULLFLOW_PORT[2]=1520

IPFIX_CLICKSTREAM_PORT_TYPE[2]=tcp
IPFIX_CLICKSTREAM_PORT[2]=1521
ENV

printf 'TRAFFIC_DIR_DEF_MODE=2\nSUBSCRIBER_FILTER_MODE=2\n' > "$T/cidr.env"

cat > "$T/export.env" <<'ENV'
IPFIX_FULLFLOW_PORT_TYPE[0]=tcp
IPFIX_FULLFLOW_PORT[0]=1500
IPFIX_FULLFLOW_EXPORT[0]=10.0.0.2/1600/tcp
IPFIX_CLICKSTREAM_PORT_TYPE[0]=tcp
IPFIX_CLICKSTREAM_PORT[0]=1501
IPFIX_CLICKSTREAM_EXPORT[0]=10.0.0.2/1601/tcp
ENV

imp() { # name [args]: import, then check
	_n=$1; shift
	"$C" import-env "$@" "$T/$_n.env" > "$T/$_n.yaml" 2> "$T/$_n.err" || { cat "$T/$_n.err"; fail "import-env $_n exited $?"; }
	"$C" check "$T/$_n.yaml" > "$T/$_n.eff" 2> "$T/$_n.chk" || { cat "$T/$_n.yaml" "$T/$_n.chk"; fail "check rejected the import of $_n"; }
}
listen_of() { # yaml instance
	"$C" --config "$1" args recv "$2" | sed -n 's/.*--listen \([^ ]*\).*/\1/p'
}

note "the manual's default .env"
imp default
for p in fullflow-0:1500 clickstream-0:1501 gtpflow-0:1502 natflow-0:1503; do
	expect_eq "$(listen_of "$T/default.yaml" "${p%%:*}")" "tcp://127.0.0.1:${p#*:}" "listen of ${p%%:*}"
done
expect_eq "$(grep -c '^    [a-z]*:$' "$T/default.yaml")" 4 "receivers in the default import"
grep -q "default.env:.*NAT_IMPORT_FROM_FULLFLOW has no '=' and no value.*kept the default 0" "$T/default.err" ||
	{ cat "$T/default.err"; fail "the key without '=' was not reported"; }
grep -q "NAT_AGG_LOG_GROUP_TIME_INTERVAL has no '='.*kept the default 15" "$T/default.err" || fail "second key without '=' not reported"
grep -q "commented-out default(s) left as defaults, 2 problem(s)" "$T/default.err" || { cat "$T/default.err"; fail "summary line"; }
grep -q "rotate_minutes: 12" "$T/default.eff" || fail "clickstream rotation default (12) missing from the effective config"
grep -q "rotate_delay_seconds: 400" "$T/default.eff" || fail "clickstream delay default (400) missing"
grep -q "traffic_dir_def_mode: 0" "$T/default.eff" || fail "mode missing"
if "$C" import-env --strict "$T/default.env" > /dev/null 2>&1; then fail "--strict accepted keys without values"; fi

note "several DPIs (the manual's example), and --listen for a DPI on another host"
imp multi --listen 0.0.0.0
expect_eq "$(grep -c '^  - dpi:' "$T/multi.yaml")" 3 "DPIs in the multi-DPI import"
for p in fullflow-0:1500 clickstream-0:1501 fullflow-1:1510 clickstream-1:1511 fullflow-2:1520 clickstream-2:1521; do
	expect_eq "$(listen_of "$T/multi.yaml" "${p%%:*}")" "tcp://0.0.0.0:${p#*:}" "listen of ${p%%:*}"
done
if "$C" --config "$T/multi.yaml" args recv gtpflow-1 > /dev/null 2> "$T/nogtp.err"; then fail "gtpflow-1 is not configured"; fi
grep -q "no receiver gtpflow for DPI 1" "$T/nogtp.err" || fail "message for an unconfigured receiver"

note "modes and export targets"
imp cidr
grep -q "traffic_dir_def_mode: 2" "$T/cidr.yaml" || fail "TRAFFIC_DIR_DEF_MODE=2 lost"
grep -q "subscriber_filter_mode: 2" "$T/cidr.yaml" || fail "SUBSCRIBER_FILTER_MODE=2 lost"
"$C" --config "$T/cidr.yaml" args loader | grep -q -- "--traffic-dir-def-mode 2 --subscriber-filter-mode 2" ||
	fail "the loader's command line lacks the modes"
imp export
grep -q "export: \[10.0.0.2/1600/tcp\]" "$T/export.eff" || fail "fullflow export target lost"
grep -q "export: \[10.0.0.2/1601/tcp\]" "$T/export.eff" || fail "clickstream export target lost"
"$C" --config "$T/export.yaml" args recv fullflow-0 | grep -q -- "--export 10.0.0.2/1600/tcp" ||
	fail "the receiver's command line lacks the export target"
"$C" --config "$T/export.yaml" args recv clickstream-0 | grep -q -- "--export 10.0.0.2/1601/tcp" ||
	fail "the clickstream receiver's command line lacks the export target"

note "what import-env does not understand, it names"
printf 'IPFIX_FULLFLOW_PORT[0]=15oo\nMYSTERY=1\nIPFIX_FULLFLOW_PORT=1500\n' > "$T/bad.env"
"$C" import-env "$T/bad.env" > "$T/bad.yaml" 2> "$T/bad.err" || fail "import-env of a bad file must still write YAML"
grep -q "bad.env:1:.*'15oo' is not an integer in 1..65535; not converted" "$T/bad.err" || { cat "$T/bad.err"; fail "bad port"; }
grep -q "bad.env:2:1: MYSTERY: not a key qoestor knows" "$T/bad.err" || fail "unknown key"
grep -q "bad.env:3:1: IPFIX_FULLFLOW_PORT: needs a DPI index" "$T/bad.err" || fail "missing index"
"$C" check "$T/bad.yaml" > /dev/null 2>&1 || fail "the YAML written for a bad .env must still pass check"
if "$C" import-env "$T/none.env" > /dev/null 2> "$T/none.err"; then fail "a missing .env must fail"; fi
grep -q "cannot open .*none.env" "$T/none.err" || fail "missing .env message"
echo "config-import: ok"
