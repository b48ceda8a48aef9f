#!/usr/bin/env bash
# Installs both releases of Alipay's official Python SDK from the package index, each in its
# own virtual environment under DIR:
#   DIR/global-open-sdk-python-1.7.1     global-open-sdk-python==1.7.1 (it pins cryptography 44.0.3)
#   DIR/global-alipay-sdk-python-1.0.1   global-alipay-sdk-python==1.0.1 and cryptography==44.0.3,
#                                        which 1.0.1 imports without declaring it
# A venv whose import check already passes is kept as it is.
# Usage: setup.sh DIR
set -euo pipefail
dir=${1:?usage: setup.sh DIR}
mkdir -p "$dir"

install() { # install NAME PACKAGES...
    local venv="$dir/$1"; shift
    if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c \
        'import com.alipay.ams.api.default_alipay_client, com.alipay.ams.api.request.pay.alipay_pay_cancel_request' \
        2>/dev/null; then
        echo "python-sdk: $venv ready"
        return
    fi
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$@"
    "$venv/bin/python" -c 'import com.alipay.ams.api.default_alipay_client'
    echo "python-sdk: $venv installed ($*)"
}

install global-open-sdk-python-1.7.1 global-open-sdk-python==1.7.1
install global-alipay-sdk-python-1.0.1 global-alipay-sdk-python==1.0.1 cryptography==44.0.3
