"""The Python side of an emulated execution environment, as /var/runtime/bootstrap.py does it.

The task root goes first on sys.path; the layer folders under the opt directory (``/opt``, or where
the emulator unpacked the layers when it cannot mount them there) are added with site.addsitedir
only while PYTHONPATH is unset; then awslambdaric runs the handler named in ``_HANDLER``.
"""

import os
import site
import sys


def main() -> None:
    task_root = os.environ["LAMBDA_TASK_ROOT"]
    opt = os.environ.get("LAMBDA_EMULATOR_OPT", "/opt")
    sys.path.insert(0, task_root)
    site.addsitedir(task_root)
    if "PYTHONPATH" not in os.environ:
        version = f"python{sys.version_info.major}.{sys.version_info.minor}"
        site.addsitedir(os.path.join(opt, "python", "lib", version, "site-packages"))
        site.addsitedir(os.path.join(opt, "python"))

    from awslambdaric import __main__ as runtime_client

    runtime_client.main([sys.argv[0], os.environ["_HANDLER"]])


if __name__ == "__main__":
    main()
