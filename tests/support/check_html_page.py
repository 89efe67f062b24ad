#!/usr/bin/python3
"""Checks that an HTML page atelier writes is self-contained and renders.

Usage: check_html_page.py PAGE.html [--screenshot OUT.png] [--min-colours N]

1. Static check: every src/href/srcset/poster attribute, every CSS url(...) and
   @import names a data: URI or an in-page #fragment; anything else (http:,
   https:, //host, a relative file) is an external resource and fails the page.
2. Renders the page in headless Chromium with every host name unresolvable
   (so nothing could be fetched even if the static check missed it) and takes
   a screenshot.
3. The screenshot must not be blank: at least N distinct colours (default 8)
   and at least 0.5% of its pixels different from the most common colour.

Exit status 0 when the page passes; 1 with one line per problem on stderr;
2 for bad usage or a missing Chromium.
"""
import argparse
import collections
import html.parser
import os
import re
import shutil
import subprocess
import sys
import tempfile

URL_ATTRIBUTES = {"src", "href", "srcset", "poster", "data", "action", "background"}
CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]*)", re.IGNORECASE)
CSS_IMPORT = re.compile(r"@import\s+(?:url\()?\s*['\"]?([^'\"\s;)]*)", re.IGNORECASE)


def is_internal(url: str) -> bool:
    url = url.strip()
    return url == "" or url.startswith("#") or url.lower().startswith("data:")


class ResourceFinder(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.external = []
        self.in_style = False

    def handle_starttag(self, tag, attrs):
        if tag == "style":
            self.in_style = True
        for name, value in attrs:
            if value is None:
                continue
            if name == "style":
                self.check_css(value)
            elif name in URL_ATTRIBUTES:
                urls = [part.strip().split(" ")[0] for part in value.split(",")] if name == "srcset" else [value]
                for url in urls:
                    if not is_internal(url):
                        self.external.append(f"<{tag} {name}={url[:80]!r}>")

    def handle_endtag(self, tag):
        if tag == "style":
            self.in_style = False

    def handle_data(self, data):
        if self.in_style:
            self.check_css(data)

    def check_css(self, css):
        for pattern in (CSS_URL, CSS_IMPORT):
            for url in pattern.findall(css):
                if not is_internal(url):
                    self.external.append(f"css {url[:80]!r}")


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def screenshot(chromium, page, out_png, scratch):
    command = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--no-first-run", "--no-default-browser-check", "--disable-extensions",
        "--disable-background-networking", "--disable-sync", "--disable-component-update",
        "--host-resolver-rules=MAP * ~NOTFOUND", "--hide-scrollbars",
        f"--user-data-dir={scratch}", "--window-size=1280,1024",
        f"--screenshot={out_png}", "file://" + os.path.abspath(page),
    ]
    env = dict(os.environ, HOME=scratch, XDG_CONFIG_HOME=scratch, XDG_CACHE_HOME=scratch)
    try:
        result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                timeout=120, env=env, check=False)
    except subprocess.TimeoutExpired:
        return "chromium did not finish within 120 s"
    if not os.path.exists(out_png):
        tail = result.stdout.decode(errors="replace")[-2000:]
        return f"chromium wrote no screenshot (exit {result.returncode}): {tail}"
    return None


def blank_problem(png, min_colours):
    from PIL import Image  # python3-pil
    with Image.open(png) as image:
        pixels = list(image.convert("RGB").getdata())
    counts = collections.Counter(pixels)
    _, most = counts.most_common(1)[0]
    other = 1.0 - most / len(pixels)
    if len(counts) < min_colours or other < 0.005:
        return f"screenshot looks blank: {len(counts)} colours, {other:.2%} of pixels differ from the background"
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("page")
    parser.add_argument("--screenshot", help="keep the screenshot here")
    parser.add_argument("--min-colours", type=int, default=8)
    args = parser.parse_args()
    if not os.path.isfile(args.page):
        print(f"check_html_page: {args.page}: no such file", file=sys.stderr)
        return 2
    problems = []
    finder = ResourceFinder()
    with open(args.page, encoding="utf-8") as f:
        finder.feed(f.read())
    problems += [f"external resource: {e}" for e in finder.external]

    chromium = find_chromium()
    if chromium is None:
        print("check_html_page: chromium is not installed (scripts/install-deps.sh installs it)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="atelier-html-check-") as scratch:
        png = args.screenshot or os.path.join(scratch, "page.png")
        problem = screenshot(chromium, args.page, png, os.path.join(scratch, "profile"))
        if problem is None:
            problem = blank_problem(png, args.min_colours)
        if problem:
            problems.append(problem)
    for p in problems:
        print(f"check_html_page: {args.page}: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
