"""The digest that seals an evidence record, defined so that a verifier can recompute it by hand.

An exported record is a JSON object:

    {"format": RECORD_FORMAT, "evidence": {...}, "digest": {...}, "generated_at": ..., "software": {...}}

The digest covers the `evidence` member only: when and by which nvqbot the file was made are outside
it, so two exports of unchanged evidence carry the same digest, and any changed character gives
another. `digest.sections` holds a digest of each answer and of each other part of the evidence;
they are not part of the seal, they only help say *where* a copy differs.
"""

import hashlib
import json
from typing import Any

RECORD_FORMAT = "nvqbot-evidence-record/1"
ALGORITHM = "SHA-256"
# Printed on every record, so that anyone can recompute the digest without nvqbot.
METHOD = (
    "SHA-256 of the UTF-8 bytes of the record's \"evidence\" object written as canonical JSON: object keys"
    " sorted by code point, no white space (\",\" and \":\" as separators), characters outside ASCII written"
    " as themselves (not \\u escapes), numbers as integers. In Python:"
    " hashlib.sha256(json.dumps(evidence, sort_keys=True, ensure_ascii=False,"
    " separators=(\",\", \":\")).encode(\"utf-8\")).hexdigest()"
)


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sha256_hex(value: Any) -> str:
    return hashlib.sha256(canonical_json(value)).hexdigest()


def _canonical_parts(evidence: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """The evidence's canonical JSON and a digest per section, serialising each part once: the whole is
    composed from the parts exactly as `canonical_json` would write it."""
    sections, members = {}, []
    for key in sorted(evidence):
        value = evidence[key]
        if key == "answers" and isinstance(value, list):
            pieces = []
            for answer in value:
                piece = canonical_json(answer)
                ref = answer.get("ref") if isinstance(answer, dict) else None
                sections[f"answers/{ref}"] = hashlib.sha256(piece).hexdigest()
                pieces.append(piece)
            body = b"[" + b",".join(pieces) + b"]"
        else:
            body = canonical_json(value)
            sections[key] = hashlib.sha256(body).hexdigest()
        members.append(canonical_json(key) + b":" + body)
    return b"{" + b",".join(members) + b"}", sections


def _sections(evidence: dict[str, Any]) -> dict[str, str]:
    """A digest per answer (by its reference, e.g. "answers/Q3.v2") and per other part of the evidence."""
    return _canonical_parts(evidence)[1]


def seal(evidence: dict[str, Any]) -> dict[str, Any]:
    """The digest block of a record holding this evidence."""
    whole, sections = _canonical_parts(evidence)
    return {"algorithm": ALGORITHM, "method": METHOD, "value": hashlib.sha256(whole).hexdigest(), "sections": sections}


def differences(record: Any) -> list[str]:
    """What differs between a record and its own digest, one line each; empty when the record is intact."""
    if not isinstance(record, dict) or not isinstance(record.get("evidence"), dict):
        return ["this is not an nvqbot evidence record: it has no \"evidence\" object"]
    sealed = record.get("digest")
    if not isinstance(sealed, dict) or not isinstance(sealed.get("value"), str):
        return ["the record has no digest to check against"]
    evidence = record["evidence"]
    actual = sha256_hex(evidence)
    if actual == sealed["value"]:
        return []
    lines = [f"digest differs: the record says {sealed['value']}, its evidence gives {actual}"]
    sections = sealed.get("sections")
    recorded = sections if isinstance(sections, dict) else {}
    now = _sections(evidence)
    for name in sorted(recorded.keys() | now.keys()):
        if name not in now:
            lines.append(f"{name}: missing from the evidence")
        elif name not in recorded:
            lines.append(f"{name}: not in the sealed record")
        elif recorded[name] != now[name]:
            lines.append(f"{name}: changed")
    return lines
