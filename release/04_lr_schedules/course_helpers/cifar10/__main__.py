"""Command line: ``python -m course_helpers.cifar10 download --data-dir DIR``."""

import argparse
import sys

from course_helpers.cifar10.data import DownloadError, download


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m course_helpers.cifar10", description="Get CIFAR-10 for assignment 05."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    fetch = commands.add_parser("download", help="download, verify and extract CIFAR-10")
    fetch.add_argument("--data-dir", required=True)
    args = parser.parse_args(argv)
    try:
        print(download(args.data_dir))
    except (OSError, DownloadError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
