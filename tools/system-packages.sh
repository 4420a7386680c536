#!/usr/bin/env bash
# The Debian packages the tests need beyond Python's, listed once: `make test` and CI install
# them through this script. bubblewrap: the grading sandbox (course_tools/sandbox.py);
# chromium, chromium-driver: the browser test over the built book (tests/test_browser.py);
# fonts-nanum: Hangul on that test's screenshots.
#
#   tools/system-packages.sh check     exit 1, saying what to run, if any of them is missing
#   tools/system-packages.sh install   as root: apt-get update once, install what is missing;
#                                      as anyone else: the same as check
set -euo pipefail
PACKAGES=(bubblewrap chromium chromium-driver fonts-nanum)
# where there is no dpkg (not Debian or Ubuntu), the commands stand for the packages
COMMANDS=(bwrap chromium chromedriver)

missing=()
if command -v dpkg-query >/dev/null; then
    for package in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
    done
else
    for command in "${COMMANDS[@]}"; do
        command -v "$command" >/dev/null || missing+=("$command")
    done
fi
[ ${#missing[@]} = 0 ] && exit 0

if [ "${1:-check}" = install ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing ${missing[*]} (the grading and browser tests need them)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    exit 0
fi

echo "missing ${missing[*]}: the grading sandbox and the browser test need them, and without them" >&2
if command -v apt-get >/dev/null; then
    echo "those tests cannot run. Install them with:  sudo make system-packages" >&2
else
    echo "those tests cannot run. Install your system's bubblewrap, Chromium with chromedriver and a" >&2
    echo "Hangul font (Debian: ${PACKAGES[*]})." >&2
fi
echo "(make check runs the tests that need none of them)" >&2
exit 1
