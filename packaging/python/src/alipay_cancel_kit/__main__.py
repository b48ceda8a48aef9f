"""`python -m alipay_cancel_kit ARGS...` runs the kit's binary with ARGS, as the
`alipay-cancel-kit` command does (useful where the environment's scripts folder is not on
the PATH)."""

import os
import subprocess
import sys

from .gateway import KitError, find_binary


def main(argv=None):
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        binary = find_binary()
    except KitError as error:
        print("alipay-cancel-kit: %s" % error, file=sys.stderr)
        return 2
    if os.name == "posix" and argv is None:
        # Replace this interpreter: signals and the exit status go straight to the kit.
        os.execv(binary, [binary] + args)
    return subprocess.call([binary] + args)


if __name__ == "__main__":
    sys.exit(main())
