#!/usr/bin/env python3
"""Checks the language catalogues in Sources/HearthHTTP/Locales, for translators and for CI.

    python3 Tests/check-catalogue.py            # every language
    python3 Tests/check-catalogue.py cy         # one language: what is missing or unused in it

For each translation it lists the keys English has and it lacks (missing), the keys it has and
English does not (unused), placeholders ({name}) and links ([words](/path)) that differ from
English, and plural entries without every form the language needs. For English it lists keys no
template or page code uses. Exits 1 when anything is listed, so CI fails on it.
"""
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOCALES = os.path.join(ROOT, "Sources", "HearthHTTP", "Locales")
PLURALS = {"cy": ["zero", "one", "two", "few", "many", "other"]}
DEFAULT_PLURALS = ["one", "other"]


def load(tag):
    """The catalogue `tag` (<tag>.json)."""
    with open(os.path.join(LOCALES, f"{tag}.json"), encoding="utf-8") as f:
        return json.load(f)


def forms(value):
    return list(value.values()) if isinstance(value, dict) else [value]


def placeholders(text):
    return set(re.findall(r"\{([A-Za-z]+)\}", text))


def links(text):
    """Link targets and code spans: both stay exactly as English has them."""
    return re.findall(r"\]\(([^)]*)\)", text) + re.findall(r"`([^`]*)`", text)


def used_keys(english):
    """Keys a template or the Swift page code names, literally or by a prefix it completes."""
    used, prefixes = set(), set()
    for base, _, files in os.walk(os.path.join(ROOT, "Sources")):
        for name in files:
            path = os.path.join(base, name)
            if name.endswith(".mustache"):
                used |= set(re.findall(r"\{\{\{\s*t\.([A-Za-z0-9.]+)\s*\}\}\}", open(path, encoding="utf-8").read()))
            elif name.endswith(".swift"):
                text = open(path, encoding="utf-8").read()
                for literal in re.findall(r'"((?:[^"\\\n]|\\.)*)"', text):
                    if literal in english:
                        used.add(literal)
                    elif re.match(r"^[a-z][A-Za-z0-9]*(?:\.[A-Za-z0-9]+)+$", literal):
                        prefixes.add(literal + ".")  # a group of keys the code completes ("caseStatus.new" + ".label")
                    m = re.match(r"^([a-z][A-Za-z0-9]*(?:\.[A-Za-z0-9]+)*\.)\\\(", literal)
                    if m:
                        prefixes.add(m.group(1))
    return {k for k in english if k in used or any(k.startswith(p) for p in prefixes)}


def main():
    tags = sorted(n[: -len(".json")] for n in os.listdir(LOCALES) if n.endswith(".json"))
    wanted = sys.argv[1:] or tags
    english = {k: v for k, v in load("en").items() if not k.startswith("@")}
    problems = 0
    for tag in wanted:
        if tag not in tags:
            raise SystemExit(f"no catalogue {tag}.json in {LOCALES}")
        if tag == "en":
            unused = sorted(set(english) - used_keys(english))
            for key in unused:
                print(f"en: unused: {key} (no template or page code names it)")
            problems += len(unused)
            continue
        catalogue = load(tag)
        status = catalogue.get("@status", "")
        entries = {k: v for k, v in catalogue.items() if not k.startswith("@")}
        if not status:
            print(f"{tag}: no @status (say whether a professional translator has reviewed it)")
            problems += 1
        for key in sorted(set(english) - set(entries)):
            print(f"{tag}: missing: {key} = {json.dumps(english[key], ensure_ascii=False)}")
            problems += 1
        for key in sorted(set(entries) - set(english)):
            print(f"{tag}: unused: {key} (English has no such key)")
            problems += 1
        categories = PLURALS.get(tag, DEFAULT_PLURALS)
        for key in sorted(set(entries) & set(english)):
            source, words = english[key], entries[key]
            source_placeholders = set().union(*(placeholders(f) for f in forms(source)))
            for form in forms(words):
                if not placeholders(form) <= source_placeholders:
                    print(f"{tag}: {key}: a placeholder English does not have: {sorted(placeholders(form) - source_placeholders)}")
                    problems += 1
                if links(form) != links(forms(source)[0]):
                    print(f"{tag}: {key}: links {links(form)} differ from English {links(forms(source)[0])}")
                    problems += 1
            if isinstance(source, str) and isinstance(words, str) and placeholders(words) != placeholders(source):
                print(f"{tag}: {key}: placeholders {sorted(placeholders(words))} differ from English {sorted(placeholders(source))}")
                problems += 1
            if isinstance(source, dict) != isinstance(words, dict):
                print(f"{tag}: {key}: English {'has' if isinstance(source, dict) else 'has no'} plural forms; this does not match")
                problems += 1
            elif isinstance(words, dict) and sorted(words) != sorted(categories):
                print(f"{tag}: {key}: plural forms {sorted(words)}, {tag} needs {categories}")
                problems += 1
        if not sys.argv[1:]:
            print(f"{tag}: {len(entries)} of {len(english)} keys; status: {status}")
    if problems:
        print(f"{problems} problem(s)")
        sys.exit(1)
    print(f"catalogues: {', '.join(wanted)} complete ({len(english)} keys)")


if __name__ == "__main__":
    main()
