"""What a proxy worker imports decides its memory: each `portico serve` worker and `portico proxy` pod
pays for every module. cryptography (about 9 MiB) is only needed to check TLS Secrets' key pairs."""

from __future__ import annotations

import subprocess
import sys


def test_the_proxy_and_translation_do_not_import_cryptography_until_a_key_pair_is_checked() -> None:
    code = (
        "import sys, portico.cli.serve, portico_proxy.cli_proxy, portico_proxy.process, portico.translate\n"
        "print('cryptography' in sys.modules)\n"
        "from portico.translate.keypair import keypair_problem\n"
        "print('cryptography' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.split() == ["False", "True"]
