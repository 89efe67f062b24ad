#!/usr/bin/python3
"""Reads Prometheus text expositions (one file per scrape, in scrape order)
with prometheus_client's parser, the way a Prometheus client library sees
them, and fails (exit 1, one line per problem) when:
  * a family is untyped (its samples are not under their own # TYPE line, or
    they are split by another family),
  * a family name appears twice in one scrape,
  * a gauge's name ends in _total (the counter suffix),
  * a counter sample decreases from one scrape to the next.
On success prints the last scrape's samples as JSON {"name{labels}": value}.

Usage: prometheus_lint.py SCRAPE1 [SCRAPE2 ...]
"""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families


def sample_key(sample):
    labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
    return f"{sample.name}{{{labels}}}" if labels else sample.name


def main(paths):
    problems = []
    previous = {}
    last = {}
    for n, path in enumerate(paths, 1):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        seen = set()
        counters = {}
        last = {}
        for family in text_string_to_metric_families(text):
            if family.type in ("untyped", "unknown"):
                problems.append(f"scrape {n}: {family.name} is untyped")
            if family.name in seen:
                problems.append(f"scrape {n}: family {family.name} appears twice")
            seen.add(family.name)
            if family.type == "gauge" and family.name.endswith("_total"):
                problems.append(f"scrape {n}: gauge {family.name} has the counter suffix _total")
            for sample in family.samples:
                key = sample_key(sample)
                last[key] = sample.value
                if family.type == "counter":
                    counters[key] = sample.value
                    if key in previous and sample.value < previous[key]:
                        problems.append(f"scrape {n}: counter {key} went down from "
                                        f"{previous[key]} to {sample.value}")
        previous.update(counters)
    for p in problems:
        print(p)
    if problems:
        return 1
    print(json.dumps(last, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
