"""``python -P -m backprop_lab.grading.kernel -f CONNECTION_FILE``: ipykernel, guarded.

The kernel that autograding starts for each submission (see :mod:`.guard`): the guard is
installed, and the grading state recorded, before the first cell of the notebook runs.
Otherwise it is ``python -m ipykernel_launcher``. Start it with ``-P``: then the kernel's
working folder (the submission's) cannot shadow a module imported before the guard is in;
ipykernel puts it back on ``sys.path`` for the notebook, as in any kernel.
"""


def main() -> None:
    from . import guard

    guard.install()
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    app.initialize()
    guard.attach(app.shell, app.kernel)
    app.start()


if __name__ == "__main__":
    main()
