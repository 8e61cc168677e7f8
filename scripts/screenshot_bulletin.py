"""Make docs/images/bulletin.png, the README's picture of the html bulletin: the bulletin of
examples/jiande.jsonl on 2024-11-30, opened in headless Chromium, its first screenful.

    python scripts/screenshot_bulletin.py [--output docs/images/bulletin.png] [--height 1500]

Needs Chromium (``apt-get install -y chromium``) and, for the Chinese to show, a CJK font
(``apt-get install -y fonts-noto-cjk``: the page names Noto Serif/Sans CJK SC among its
fallbacks). Nothing is fetched: the page is one self-contained file.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from lifecycle_rules.io.cli import main as cli

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "images" / "bulletin.png")
    parser.add_argument("--height", type=int, default=1500, help="pixels of the page shown (width 1280)")
    parser.add_argument("--pack", default="jiande")
    args = parser.parse_args(argv)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("screenshot_bulletin: Chromium is not installed (apt-get install -y chromium)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "通报.html"
        code = cli(["report", "--pack", args.pack, "--as-of", "2024-11-30", str(ROOT / f"examples/{args.pack}.jsonl"),
                    "-o", str(page), "--quiet"])
        if code != 0:
            return code
        shot = Path(tmp) / "shot.png"
        subprocess.run([chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        "--force-device-scale-factor=1", f"--user-data-dir={tmp}/profile",
                        f"--window-size=1280,{args.height}", f"--screenshot={shot}", page.as_uri()],
                       check=True, capture_output=True, timeout=60)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, args.output)
    print(f"screenshot_bulletin: wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
