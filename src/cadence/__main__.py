"""``python -m cadence`` and the ``cadence`` command: run the command line."""

import gc


def main() -> None:
    """Run the command line (``cadence.cli.main``), started without garbage collection."""
    # Start-up makes some twenty thousand objects (modules, classes, functions)
    # that live as long as the process, and the collector would go through
    # them again and again while they are made. So it waits until they are
    # all there, then leaves them aside for good (gc.freeze) and collects
    # only what the command makes from then on.
    gc.disable()
    try:
        from cadence.cli import main as run
    finally:
        gc.freeze()
        gc.enable()
    run()


if __name__ == "__main__":
    main()
