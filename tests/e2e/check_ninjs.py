#!/usr/bin/python3
"""Validate ninjs 3 documents against IPTC's schema in shared/schemas/ninjs.

As a module (from pytest):

    import check_ninjs
    check_ninjs.validate(item)        # a ninjs 3 item; raises NinjsError
    check_ninjs.validate_event(ev)    # a stream event {"seq","kind","id","item"}
    check_ninjs.validate_any(doc)     # item, event, or a list of either
    check_ninjs.errors(item)          # list of messages, [] when valid

As a script:

    tests/e2e/check_ninjs.py [FILE ...]       (no FILE, or "-": stdin)

Each input holds one JSON document, a JSON array of documents, or JSON
Lines (one document per line). Events ({"kind", "item"}) are recognised and
their item validated. Prints one line per document and exits 1 if any is
invalid, 2 if an input cannot be read or parsed.

The schema is found through $KAWAT_NINJS_SCHEMA (the file itself), or
$KAWAT_SHARED (the shared/ folder), or the first shared/schemas/ninjs in a
folder above this file (the repository's ../shared).

Formats are checked: Debian's python3-jsonschema has no checker for "uri"
and "date-time" without optional modules, so strict ones (RFC 3986 absolute
URI, RFC 3339 date-time) are registered here. The schema's one remote
reference (GeoJSON, for places[].geoJSON) is answered locally by a schema
that rejects it: kawat sends no geoJSON, and validation never goes online.
"""

import datetime
import json
import os
import pathlib
import re
import sys

import jsonschema

SCHEMA_NAME = "ninjs-schema_3.1.json"
GEOJSON_ID = "https://geojson.org/schema/GeoJSON.json"
KINDS = ("publish", "correction", "withdrawal", "embargo")


class NinjsError(ValueError):
    """A document is not valid ninjs 3; .errors lists every problem."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("; ".join(self.errors))


def schema_path():
    env = os.environ.get("KAWAT_NINJS_SCHEMA")
    if env:
        return pathlib.Path(env)
    env = os.environ.get("KAWAT_SHARED")
    if env:
        return pathlib.Path(env) / "schemas" / "ninjs" / SCHEMA_NAME
    here = pathlib.Path(__file__).resolve()
    for d in here.parents:
        p = d / "shared" / "schemas" / "ninjs" / SCHEMA_NAME
        if p.is_file():
            return p
    raise FileNotFoundError(
        "no shared/schemas/ninjs/%s above %s; set KAWAT_SHARED" % (SCHEMA_NAME, here))


# RFC 3986 absolute URI: scheme ":" then only URI characters, with valid
# percent-escapes. (Not a full grammar, but rejects relative references,
# spaces, raw non-ASCII and broken escapes.)
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*$")
_PCT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_DT = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?"
                 r"([Zz]|[+-](\d{2}):(\d{2}))$")


def _is_uri(v):
    if not isinstance(v, str):
        return True
    if not _URI.match(v) or _PCT.search(v):
        return False
    scheme, rest = v.split(":", 1)
    if scheme.lower() in ("http", "https"):
        return rest.startswith("//") and len(rest) > 2 and rest[2] not in "/?#"
    return True


def _is_date_time(v):
    if not isinstance(v, str):
        return True
    m = _DT.match(v)
    if not m:
        return False
    y, mo, d, h, mi, s = (int(x) for x in m.groups()[:6])
    try:
        datetime.date(y, mo, d)
    except ValueError:
        return False
    if h > 23 or mi > 59 or s > 60:
        return False
    if m.group(9) is not None and (int(m.group(9)) > 23 or int(m.group(10)) > 59):
        return False
    return True


def _format_checker():
    fc = jsonschema.FormatChecker()
    fc.checks("uri")(_is_uri)
    fc.checks("date-time")(_is_date_time)
    return fc


_validator = None


def _get_validator():
    global _validator
    if _validator is not None:
        return _validator
    with open(schema_path(), encoding="utf-8") as f:
        schema = json.load(f)
    cls = jsonschema.Draft202012Validator
    cls.check_schema(schema)
    geojson = {"$id": GEOJSON_ID, "not": {},
               "description": "kawat sends no geoJSON; validation stays offline"}
    try:  # jsonschema >= 4.18 resolves through the referencing library
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012
        registry = Registry().with_resource(
            GEOJSON_ID, Resource.from_contents(geojson, default_specification=DRAFT202012))
        _validator = cls(schema, registry=registry, format_checker=_format_checker())
    except ImportError:  # Debian's 4.10: RefResolver with a local store
        resolver = jsonschema.RefResolver.from_schema(
            schema, store={GEOJSON_ID: geojson, GEOJSON_ID + "#": geojson})
        _validator = cls(schema, resolver=resolver, format_checker=_format_checker())
    return _validator


def _where(err, prefix):
    path = "".join("[%d]" % p if isinstance(p, int) else "." + str(p)
                   for p in err.absolute_path)
    path = prefix + path if prefix else path.lstrip(".")
    return path or "(root)"


def errors(item, prefix=""):
    """Every schema violation of a ninjs item, as "path: message"."""
    v = _get_validator()
    errs = sorted(v.iter_errors(item), key=lambda e: list(map(str, e.absolute_path)))
    # Some jsonschema versions also call a property "unevaluated" when its
    # own value failed; keep that report only for names with no error of
    # their own, so that an unknown property still shows.
    failed = {tuple(e.absolute_path) for e in errs}
    out = []
    for e in errs:
        if e.validator == "unevaluatedProperties" and isinstance(e.instance, dict):
            base = tuple(e.absolute_path)
            names = [k for k in e.instance if "'%s'" % k in e.message]
            if names and all(any(f[:len(base) + 1] == base + (k,) for f in failed)
                             for k in names):
                continue
        out.append("%s: %s" % (_where(e, prefix), e.message))
    return out


def validate(item):
    """Raises NinjsError unless item is a valid ninjs 3 item."""
    errs = errors(item)
    if errs:
        raise NinjsError(errs)
    return item


def event_errors(ev):
    """Problems of a stream event: its envelope and its item."""
    if not isinstance(ev, dict):
        return ["(root): an event is an object"]
    out = []
    extra = set(ev) - {"seq", "kind", "id", "item"}
    if extra:
        out.append("(root): unexpected properties %s" % sorted(extra))
    kind = ev.get("kind")
    if kind not in KINDS:
        out.append("kind: %r is not one of %s" % (kind, KINDS))
    seq = ev.get("seq")
    if "seq" in ev and (not isinstance(seq, int) or isinstance(seq, bool) or seq < 1):
        out.append("seq: must be a positive integer")
    if "seq" not in ev and kind != "embargo":
        out.append("seq: required for %s events" % kind)
    if not isinstance(ev.get("id"), str) or not ev.get("id"):
        out.append("id: must be a non-empty string")
    item = ev.get("item")
    if not isinstance(item, dict):
        return out + ["item: must be a ninjs object"]
    out += errors(item, prefix="item")
    # kawat's own rules on top of the schema.
    canceled = item.get("pubStatus") == "canceled"
    if kind == "withdrawal" and not canceled:
        out.append("item.pubStatus: a withdrawal must be canceled")
    if canceled:
        for key in ("headlines", "bodies", "descriptions", "subjects", "places",
                    "associations", "by", "located"):
            if key in item:
                out.append("item.%s: a canceled item carries no content" % key)
    if kind == "embargo" and "embargoedUntil" not in item:
        out.append("item.embargoedUntil: required for an embargo event")
    return out


def validate_event(ev):
    errs = event_errors(ev)
    if errs:
        raise NinjsError(errs)
    return ev


def is_event(doc):
    return isinstance(doc, dict) and "item" in doc and "kind" in doc


def validate_any(doc):
    """An item, an event, or a list of items and events."""
    docs = doc if isinstance(doc, list) else [doc]
    for d in docs:
        (validate_event if is_event(d) else validate)(d)
    return doc


def _load(text):
    """One document, an array of them, or JSON Lines."""
    text = text.strip()
    if not text:
        return []
    try:
        doc = json.loads(text)
        return doc if isinstance(doc, list) else [doc]
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def main(argv):
    names = argv[1:] or ["-"]
    try:
        _get_validator()
    except (OSError, ValueError) as e:
        print("check_ninjs: no schema: %s" % e, file=sys.stderr)
        return 2
    bad = 0
    count = 0
    for name in names:
        try:
            text = sys.stdin.read() if name == "-" else open(name, encoding="utf-8").read()
            docs = _load(text)
        except (OSError, ValueError) as e:
            print("%s: cannot read: %s" % (name, e), file=sys.stderr)
            return 2
        for i, d in enumerate(docs):
            count += 1
            errs = event_errors(d) if is_event(d) else errors(d)
            item = d.get("item", d) if isinstance(d, dict) else {}
            label = "%s#%d %s%s" % (name, i + 1,
                                    ("%s " % d["kind"]) if is_event(d) else "",
                                    item.get("uri", "?") if isinstance(item, dict) else "?")
            if errs:
                bad += 1
                print("INVALID %s" % label)
                for e in errs:
                    print("  " + e)
            else:
                print("ok %s" % label)
    print("%d valid, %d invalid (schema %s)" % (count - bad, bad, schema_path()))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
