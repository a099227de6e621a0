#!/bin/sh
# Bolt task: parameters arrive as PT_* environment variables; the result is one
# JSON object on stdout.
action=$PT_action
name=$PT_name
version=${PT_version:-}
noop=${PT__noop:-false}

json_string() {
  printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"
}

installed_version() {
  if command -v dpkg-query >/dev/null 2>&1; then
    dpkg-query -W -f='${db:Status-Abbrev} ${Version}\n' "$1" 2>/dev/null | awk '/^ii/ {print $2}'
  elif command -v rpm >/dev/null 2>&1; then
    rpm -q --qf '%{VERSION}-%{RELEASE}\n' "$1" 2>/dev/null | grep -v 'not installed'
  elif command -v apk >/dev/null 2>&1; then
    apk info -e "$1" >/dev/null 2>&1 && apk info "$1" 2>/dev/null | awk 'NR==1 {print $1}'
  fi
}

manager() {
  for m in apt-get dnf yum apk; do
    if command -v $m >/dev/null 2>&1; then echo $m; return; fi
  done
}

report() {
  v=$(installed_version "$name")
  if [ -n "$v" ]; then status=installed; else status=absent; fi
  printf '{"name":%s,"status":"%s","version":%s,"action":"%s","noop":%s,"changed":%s}\n' \
    "$(json_string "$name")" "$status" "$(json_string "$v")" "$action" "$noop" "$1"
}

case "$action" in
  status)
    report false
    ;;
  install|uninstall)
    m=$(manager)
    if [ -z "$m" ]; then
      echo '{"_error":{"kind":"drover/no-package-manager","msg":"no supported package manager found"}}'
      exit 1
    fi
    before=$(installed_version "$name")
    if [ "$noop" = true ]; then
      report false
      exit 0
    fi
    spec=$name
    if [ -n "$version" ]; then
      case $m in apt-get) spec="$name=$version" ;; *) spec="$name-$version" ;; esac
    fi
    case "$action:$m" in
      install:apt-get) DEBIAN_FRONTEND=noninteractive apt-get install -y "$spec" >&2 ;;
      install:apk) apk add "$spec" >&2 ;;
      install:*) $m install -y "$spec" >&2 ;;
      uninstall:apt-get) DEBIAN_FRONTEND=noninteractive apt-get remove -y "$name" >&2 ;;
      uninstall:apk) apk del "$name" >&2 ;;
      uninstall:*) $m remove -y "$name" >&2 ;;
    esac || exit 1
    after=$(installed_version "$name")
    if [ "$before" = "$after" ]; then report false; else report true; fi
    ;;
esac
