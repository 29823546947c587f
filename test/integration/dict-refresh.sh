#!/bin/sh
# dict-refresh.sh: `qoestor-dict refresh`, the daily autoload, against a real HTTP server
# on 127.0.0.1 (python3 -m http.server) and file:// URLs, driven by qoestor.yaml the way
# qoestor-dict-refresh.service runs it (--config). A good download replaces the file
# atomically and `qoestor-dict watch` makes it live in ClickHouse; an HTTP 404, a refused
# connection and invalid content each exit 1, say why and keep the old file byte for
# byte; a switch that is off downloads nothing; command-line URLs override the config.
. "$(dirname "$0")/../lib.sh"

D="$QOESTOR_BIN/qoestor-dict"
mkdir -p "$T/www" "$T/dicts"
WEB_PORT=$(free_port)
WEB="http://127.0.0.1:$WEB_PORT"
bg web python3 -m http.server --bind 127.0.0.1 --directory "$T/www" "$WEB_PORT"
printf 'ok\n' >"$T/www/ping"
wait_for 30 curl -sf "$WEB/ping" || { cat "$T/web.log"; fail "the test's HTTP server did not start"; }

printf '15169\tGOOGLE\n13238\tYANDEX\n' >"$T/www/asnum.txt"
printf '1\tSocial networks\n2\tVideo\n' >"$T/www/cats.txt"
printf 'vk.com\t1\nyoutube.com\t2\n' >"$T/www/hosts.txt"
printf '7\tchannel seven\n' >"$T/vch.txt"
printf '64512\tOLD\n' >"$T/dicts/asnum_dic.txt"

conf() { # asnum_url urlcats_autoload
	cat >"$T/qoestor.yaml" <<YAML
dictionaries:
  dir: $T/dicts
  asnum_autoload: true
  asnum_url: "$1"
  urlcats_autoload: $2
  urlcats_url: "$WEB/cats.txt"
  urlcats_host_url: "$WEB/hosts.txt"
  vchannel_name_autoload: true
  vchannel_name_url: "file://$T/vch.txt"
YAML
}

note "everything configured: replaced, then live in ClickHouse through watch"
start_db
bg watch "$D" watch "$T/dicts" --clickhouse "$DB_URL" --debounce 100
wait_for 30 grep -q "asnum_dic: 1 entries are live" "$T/watch.log" || { cat "$T/watch.log"; fail "watch did not start"; }
conf "$WEB/asnum.txt" true
rc=0
"$D" refresh --config "$T/qoestor.yaml" >"$T/r1.log" 2>&1 || rc=$?
expect_eq "$rc" 0 "exit code ($(cat "$T/r1.log"))"
expect_eq "$(cat "$T/dicts/asnum_dic.txt")" "$(cat "$T/www/asnum.txt")" "asnum_dic.txt"
expect_eq "$(cat "$T/dicts/urlcats_dic.txt")" "$(cat "$T/www/cats.txt")" "urlcats_dic.txt"
expect_eq "$(cat "$T/dicts/urlcats_host_dic.txt")" "$(cat "$T/www/hosts.txt")" "urlcats_host_dic.txt"
expect_eq "$(cat "$T/dicts/vchannel_name_dic.txt")" "$(cat "$T/vch.txt")" "vchannel_name_dic.txt (file://)"
grep -q "asnum_dic: 2 entries from $WEB/asnum.txt replaced $T/dicts/asnum_dic.txt" "$T/r1.log" || fail "log: $(cat "$T/r1.log")"
expect_eq "$(ls -A "$T/dicts" | grep -c tmp)" 0 "no temporary files left"
asname() { q "SELECT dictGetString('qoestor.asnum_dic', 'name', toUInt32($1))"; }
is_as() { [ "$(asname "$1")" = "$2" ]; }
wait_for 15 is_as 15169 GOOGLE || fail "refreshed asnum_dic not live in ClickHouse: '$(asname 15169)'"
expect_eq "$(asname 64512)" "" "the old entry is gone"
cat_of() { q "SELECT dictGetString('qoestor.urlcats_dic', 'name', dictGetUInt16('qoestor.urlcats_host_dic', 'category_id', tuple('$1')))"; }
wait_for 15 sh -c "[ \"\$(curl -sS --data-binary \"SELECT dictGetString('qoestor.urlcats_dic', 'name', toUInt16(2))\" '$DB_URL/')\" = Video ]" ||
	fail "urlcats_dic not live"
wait_for 15 sh -c "[ \"\$(curl -sS --data-binary \"SELECT dictGetUInt16('qoestor.urlcats_host_dic', 'category_id', tuple('youtube.com'))\" '$DB_URL/')\" = 2 ]" ||
	fail "urlcats_host_dic not live"
expect_eq "$(cat_of vk.com)" "Social networks" "host category"

note "a second run changes nothing"
"$D" refresh --config "$T/qoestor.yaml" >"$T/r2.log" 2>&1 || fail "second run: $(cat "$T/r2.log")"
expect_eq "$(grep -c 'is unchanged' "$T/r2.log")" 4 "unchanged"

note "failures keep the old files"
cp "$T/dicts/asnum_dic.txt" "$T/asnum.before"
check_fails() { # what url pattern
	conf "$2" false
	rc=0
	"$D" refresh --config "$T/qoestor.yaml" >"$T/bad.log" 2>&1 || rc=$?
	expect_eq "$rc" 1 "$1: exit code ($(cat "$T/bad.log"))"
	grep -qF "$3" "$T/bad.log" || { cat "$T/bad.log"; fail "$1: no message '$3'"; }
	grep -qF "keeping $T/dicts/asnum_dic.txt" "$T/bad.log" || { cat "$T/bad.log"; fail "$1: does not say the old file stays"; }
	cmp -s "$T/asnum.before" "$T/dicts/asnum_dic.txt" || fail "$1: asnum_dic.txt changed"
	! grep -q "urlcats" "$T/bad.log" || fail "$1: urlcats_autoload is false, yet: $(grep urlcats "$T/bad.log")"
}
check_fails "HTTP 404" "$WEB/missing.txt" "asnum_dic: download from $WEB/missing.txt failed: HTTP 404"
check_fails "refused" "http://127.0.0.1:$(free_port)/asnum.txt" "Couldn't connect to server"
printf '15169 GOOGLE\n99999999999\tBIG\n' >"$T/www/broken.txt"
check_fails "invalid" "$WEB/broken.txt" "is not a valid asnum_dic (2 errors)"
grep -qF "$WEB/broken.txt:1:1: expected 2 columns separated by a tab, found 1: did you use spaces?" "$T/bad.log" || fail "no URL:LINE:COLUMN error: $(cat "$T/bad.log")"
grep -qF "$WEB/broken.txt:2:1:" "$T/bad.log" || fail "second error not listed: $(cat "$T/bad.log")"
expect_eq "$(asname 15169)" GOOGLE "ClickHouse keeps the previous asnum_dic"

note "command-line URLs and --dir override the config; usage errors"
printf '15169\tGOOGLE LLC\n' >"$T/www/asnum2.txt"
"$D" refresh --config "$T/qoestor.yaml" --asnum-url "$WEB/asnum2.txt" >"$T/r3.log" 2>&1 || fail "override: $(cat "$T/r3.log")"
expect_eq "$(cat "$T/dicts/asnum_dic.txt")" "$(printf '15169\tGOOGLE LLC')" "override URL"
mkdir -p "$T/other"
"$D" refresh --dir "$T/other" --urlcats-host-url "file://$T/www/hosts.txt" >"$T/r4.log" 2>&1 || fail "--dir: $(cat "$T/r4.log")"
expect_eq "$(ls "$T/other")" urlcats_host_dic.txt "--dir without --config"
set +e
"$D" refresh >/dev/null 2>&1; rc1=$?
"$D" refresh --dir "$T/other" --timeout x >/dev/null 2>&1; rc2=$?
printf 'dictionaries:\n  nope: 1\n' >"$T/bad.yaml"
"$D" refresh --config "$T/bad.yaml" >"$T/badconf.log" 2>&1; rc3=$?
set -e
expect_eq "$rc1" 2 "no folder"
expect_eq "$rc2" 2 "bad --timeout"
expect_eq "$rc3" 2 "bad config ($(cat "$T/badconf.log"))"
"$D" refresh --dir "$T/other" >"$T/r5.log" 2>&1 || fail "nothing to do should exit 0"
grep -q "nothing to do" "$T/r5.log" || fail "nothing-to-do message: $(cat "$T/r5.log")"
note "ok"
