#!/usr/bin/env bash
# A PMIPv6 lab on one Linux box (root): an MN running udhcpc, two MAGs, an LMA
# (plus dnsmasq as the DHCP server in relay mode), each in its own network namespace.
#
#   sudo tools/lab.sh up [server|relay]   build it and start everything (default: server)
#   sudo tools/lab.sh move 1|2            move the MN's link to MAG1 or MAG2 and renew
#   sudo tools/lab.sh release             the MN releases its lease (MAG de-registers)
#   sudo tools/lab.sh status              processes, the MN's address, the logs
#   sudo tools/lab.sh down                stop everything, delete the namespaces
#
#   MN ns                 MAG1 ns                      LMA ns
#   mn0 (bridge) ─ a1 ═══ acc0   bh0 192.0.2.11 ═══ p1 ─ br0 192.0.2.1 (LMA, dnsmasq)
#                └ a2 ═══ acc0   bh0 192.0.2.12 ═══ p2 ┘
#                         MAG2 ns
#
# LAB (default "pvlab") prefixes the namespace names; LAB_DIR (default /tmp/$LAB) holds
# the configs, logs (--log), captures (--pcap, dumpcap on every veth) and pids.  Follow
# with `tail -f $LAB_DIR/*.out`; analyse with `pmipview timeline $LAB_DIR/merged.pcapng`
# after `down` (it merges the captures).  PMIPVIEW names the pmipview to run.
set -euo pipefail

LAB=${LAB:-pvlab}
DIR=${LAB_DIR:-/tmp/$LAB}
HERE=$(cd "$(dirname "$0")/.." && pwd)
PMIPVIEW=${PMIPVIEW:-$(command -v pmipview || echo "$HERE/.venv/bin/pmipview")}
MN=$LAB-mn; M1=$LAB-m1; M2=$LAB-m2; L=$LAB-lma
MN_MAC=02:00:00:00:01:01; ACCESS_MAC=02:00:00:00:0a:01
LMA_ADDR=192.0.2.1; ROUTER=10.50.0.1; STATIC_HOA=10.50.0.10

die() { echo "lab.sh: $*" >&2; exit 1; }
inns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
bg() {  # bg NAME NS CMD...: start CMD in NS, output to $DIR/NAME.out/.err, pid to NAME.pid
  local name=$1 ns=$2; shift 2
  ip netns exec "$ns" "$@" >"$DIR/$name.out" 2>"$DIR/$name.err" </dev/null &
  echo $! >"$DIR/$name.pid"
}
wait_file() {  # wait_file FILE TEXT SECONDS
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  die "timed out waiting for '$2' in $1"
}

up() {
  local mode=${1:-server}
  [[ $mode == server || $mode == relay ]] || die "mode is server or relay, not $mode"
  [[ $(id -u) == 0 ]] || die "run as root (network namespaces)"
  for t in ip udhcpc dumpcap "$PMIPVIEW"; do
    command -v "$t" >/dev/null || die "$t not found (make net-tools; make venv)"
  done
  [[ $mode == server ]] || command -v dnsmasq >/dev/null || die "dnsmasq not found"
  ip netns list | grep -q "^$L\b" && die "a lab named $LAB is up: tools/lab.sh down first"
  mkdir -p "$DIR"
  echo "$mode" >"$DIR/mode"
  for ns in $MN $M1 $M2 $L; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
  ip -n $MN link add mn0 type bridge
  ip -n $MN link set mn0 address $MN_MAC
  ip -n $L link add br0 type bridge
  for i in 1 2; do
    local m=$LAB-m$i
    ip link add a$i netns $MN type veth peer name acc0 netns "$m"
    ip link add bh0 netns "$m" type veth peer name p$i netns $L
    ip -n $MN link set a$i master mn0
    ip -n "$m" link set acc0 address $ACCESS_MAC
    ip -n "$m" link set acc0 up
    ip -n "$m" addr add 192.0.2.1$i/24 dev bh0
    ip -n "$m" link set bh0 up
    ip -n "$m" addr add 10.50.1.1$i/32 dev lo
    ip -n $L link set p$i master br0
    ip -n $L link set p$i up
  done
  ip -n $L addr add $LMA_ADDR/24 dev br0
  ip -n $L link set br0 up
  for i in 1 2; do ip -n $L route add 10.50.1.1$i/32 via 192.0.2.1$i dev br0 onlink; done
  ip -n $MN link set mn0 up
  ip -n $MN link set a1 up
  bg cap-mn $MN dumpcap -q -i mn0 -w "$DIR/cap-mn.pcapng"
  bg cap-m1 $M1 dumpcap -q -i acc0 -i bh0 -w "$DIR/cap-m1.pcapng"
  bg cap-m2 $M2 dumpcap -q -i acc0 -i bh0 -w "$DIR/cap-m2.pcapng"
  bg cap-lma $L dumpcap -q -i p1 -i p2 -w "$DIR/cap-lma.pcapng"
  local static=""
  if [[ $mode == relay ]]; then
    static="static_hoa = \"$STATIC_HOA\""
    bg dnsmasq $L dnsmasq -k --conf-file=/dev/null --port=0 --user=root --interface=br0 \
      --dhcp-authoritative --dhcp-range=10.50.0.0,static,255.255.0.0 \
      --dhcp-host=$MN_MAC,$STATIC_HOA --dhcp-option=option:router,$ROUTER \
      --dhcp-option=option:netmask,255.255.255.0 --dhcp-leasefile="$DIR/dnsmasq.leases" \
      --pid-file="$DIR/dnsmasq.run.pid" --log-dhcp --log-facility="$DIR/dnsmasq.log"
    wait_file "$DIR/dnsmasq.log" started 20
  fi
  cat >"$DIR/lma.toml" <<EOF
pool = "10.50.0.2-10.50.0.254/24"
default_router = "$ROUTER"
[default_profile]
ipv6 = false
dhcp_mode = "$mode"
[profiles."mn1@pmipview.test"]
ipv6 = false
dhcp_mode = "$mode"
$static
EOF
  bg lma $L "$PMIPVIEW" lma --listen $LMA_ADDR --config "$DIR/lma.toml" --events --no-live \
    --log "$DIR/lma.jsonl" --pcap "$DIR/lma.pcapng"
  wait_file "$DIR/lma.err" listening 30
  for i in 1 2; do
    cat >"$DIR/mag$i.toml" <<EOF
name = "mag$i"
lifetime = 60
[nai]
"$MN_MAC" = "mn1@pmipview.test"
EOF
    local relay=()
    [[ $mode == relay ]] && relay=(--dhcp-server $LMA_ADDR --relay-address 10.50.1.1$i)
    bg mag$i $LAB-m$i "$PMIPVIEW" mag --lma $LMA_ADDR --listen 192.0.2.1$i --access acc0 \
      --dhcp "$mode" "${relay[@]}" --config "$DIR/mag$i.toml" --events --no-live \
      --log "$DIR/mag$i.jsonl" --pcap "$DIR/mag$i.pcapng"
    wait_file "$DIR/mag$i.err" "pmipview mag" 30
  done
  cat >"$DIR/mn.script" <<'EOF'
#!/bin/sh
echo "$1 ip=$ip mask=$mask router=$router serverid=$serverid lease=$lease" >> "$LAB_EVENTS"
case "$1" in
  deconfig) ip -4 addr show dev "$interface" | grep -q inet && sleep 2
            ip -4 addr flush dev "$interface" ;;
  bound|renew)
    ip -4 addr show dev "$interface" | grep -q "inet $ip/$mask " || {
      ip -4 addr flush dev "$interface"; ip addr add "$ip/$mask" dev "$interface"; }
    [ -n "$router" ] && ip route replace default via "${router%% *}" dev "$interface" ;;
esac
exit 0
EOF
  chmod +x "$DIR/mn.script"
  bg udhcpc $MN env LAB_EVENTS="$DIR/mn-events.log" \
    udhcpc -f -i mn0 -s "$DIR/mn.script" -t 10 -T 2 -A 2
  wait_file "$DIR/mn-events.log" bound 60
  echo "lab $LAB up ($mode mode): MN $(grep bound "$DIR/mn-events.log" | tail -1)"
  echo "logs in $DIR; try: tools/lab.sh move 2; tools/lab.sh release; tools/lab.sh down"
}

move() {
  local to=${1:-2}
  [[ $to == 1 || $to == 2 ]] || die "move 1 or move 2"
  ip -n $MN link set a$((3 - to)) down
  ip -n $MN link set a$to up
  kill -USR1 "$(cat "$DIR/udhcpc.pid")"  # the MN renews at its new MAG
  echo "MN link moved to MAG$to; renewing (see $DIR/mag$to.out)"
}

release() {
  kill -USR2 "$(cat "$DIR/udhcpc.pid")"
  echo "MN released its lease (see $DIR/mag*.out)"
}

status() {
  for f in "$DIR"/*.pid; do
    [[ -e $f ]] || continue
    local n; n=$(basename "$f" .pid)
    [[ $n == dnsmasq.run ]] && continue
    if kill -0 "$(cat "$f")" 2>/dev/null; then echo "$n: running"; else echo "$n: stopped"; fi
  done
  ip netns list | grep -q "^$MN\b" && inns $MN ip -4 -br addr show dev mn0
  echo "logs: $DIR/{lma,mag1,mag2}.out, $DIR/*.jsonl, $DIR/mn-events.log"
}

down() {
  local order=(udhcpc mag1 mag2 lma dnsmasq cap-mn cap-m1 cap-m2 cap-lma) n pid i
  for n in "${order[@]}"; do
    [[ -e $DIR/$n.pid ]] || continue
    pid=$(cat "$DIR/$n.pid")
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$DIR/$n.pid"
  done
  for ns in $MN $M1 $M2 $L; do ip netns del "$ns" 2>/dev/null || true; done
  local caps=("$DIR"/cap-*.pcapng)
  if [[ -e ${caps[0]} ]] && command -v mergecap >/dev/null; then
    mergecap -w "$DIR/merged.pcapng" "${caps[@]}" && rm -f "${caps[@]}"
    echo "capture: $DIR/merged.pcapng (pmipview timeline $DIR/merged.pcapng)"
  fi
  echo "lab $LAB down"
}

case ${1:-} in
  up) up "${2:-server}" ;;
  move) move "${2:-2}" ;;
  release) release ;;
  status) status ;;
  down) down ;;
  *) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
