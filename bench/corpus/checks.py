"""Self-checks for the scanner corpus: label validity, overlaps, quoted regions, and unlabelled leaks.

``check_posts(posts)`` returns a list of problems (empty when the corpus is sound). The rules are the ones
described in ``bench/corpus/README.md``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from datetime import date

import phonenumbers
from stdnum import iban as std_iban
from stdnum import luhn
from stdnum.ca import sin as ca_sin
from stdnum.us import rtn as us_rtn

TYPES = [
    "CREDIT_CARD", "US_SSN", "CA_SIN", "IBAN", "ABA_ROUTING", "BANK_ACCOUNT", "EMAIL", "PHONE", "DOB",
    "ADDRESS", "IP_ADDRESS", "PASSWORD", "SIP_CREDENTIAL", "PRIVATE_KEY", "API_KEY", "BEARER_TOKEN",
]  # fmt: skip

NOT_PERSONAL_EMAIL_DOMAINS = ("mug.org", "mitelusergroup.org")
ROLE_LOCALS = {
    "support", "helpdesk", "noc", "it-support", "telecom", "servicedesk", "voip", "sales", "billing", "info",
    "admin", "postmaster", "facilities", "reception", "hr", "accounts", "operations", "security", "board",
    "events", "treasurer", "membership", "webmaster", "noreply", "no-reply", "alerts", "pbx", "itops",
    "voicemail", "notifications", "nupoint", "fax", "scanner", "reports", "mitel", "micollab",
}  # fmt: skip
DOC_NETWORKS = [
    ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
]
RESOLVERS = {"8.8.8.8", "8.8.4.4", "1.1.1.1", "1.0.0.1", "9.9.9.9", "149.112.112.112", "208.67.222.222"}
PLACEHOLDERS = {
    "********", "changeme", "password", "<password>", "xxxxxxxx", "redacted", "****", "secret", "[removed]",
}  # fmt: skip
MONTHS = [
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december",
]  # fmt: skip

# ---------------------------------------------------------------------------------------------- validators


def _digits(value: str) -> str:
    return re.sub(r"[ -]", "", value)


def valid_card(value: str) -> bool:
    if not re.fullmatch(r"\d(?:[ -]?\d)+", value):
        return False
    d = _digits(value)
    if not 13 <= len(d) <= 19 or not luhn.is_valid(d):
        return False
    return bool(
        d[0] == "4"
        or 51 <= int(d[:2]) <= 55
        or 2221 <= int(d[:4]) <= 2720
        or (d[:2] in ("34", "37") and len(d) == 15)
        or d.startswith("6011")
        or d.startswith("65")
    )


def valid_ssn(value: str) -> bool:
    m = re.fullmatch(r"(\d{3})-(\d{2})-(\d{4})", value)
    if not m:
        return False
    area, group, serial = (int(x) for x in m.groups())
    return area not in (0, 666) and area < 900 and group != 0 and serial != 0


def valid_sin(value: str) -> bool:
    return bool(re.fullmatch(r"\d{3}([ -]?)\d{3}\1\d{3}", value)) and ca_sin.is_valid(value)


def valid_iban(value: str) -> bool:
    return bool(re.fullmatch(r"[A-Z]{2}\d{2}(?: ?[A-Z0-9]{1,4})+", value)) and std_iban.is_valid(value)


def valid_phone(value: str) -> bool:
    if not re.fullmatch(r"\+?[\d(][\d ().-]{5,}\d", value):
        return False
    try:
        parsed = phonenumbers.parse(value, "CA")
    except phonenumbers.NumberParseException:
        return False
    if not phonenumbers.is_valid_number(parsed):
        return False
    national = str(parsed.national_number)
    return not (parsed.country_code == 1 and national[3:6] == "555")


def valid_email(value: str) -> bool:
    m = re.fullmatch(r"([A-Za-z0-9._%+'-]+)@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})", value)
    if not m:
        return False
    local, domain = m.group(1).lower(), m.group(2).lower()
    return (
        not is_example_domain(domain)
        and domain not in NOT_PERSONAL_EMAIL_DOMAINS
        and local not in ROLE_LOCALS
    )


def is_example_domain(domain: str) -> bool:
    labels = domain.lower().split(".")
    return any(x in ("example", "test", "invalid", "localhost") for x in labels[-2:])


def parse_date(value: str) -> date | None:
    v = value.strip()
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", v)
    if m:
        y, mo, d = (int(x) for x in m.groups())
        return _date(y, mo, d)
    m = re.fullmatch(r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})", v)
    if m:
        a, b, y = (int(x) for x in m.groups())
        return _date(y, a, b) or _date(y, b, a)
    m = re.fullmatch(r"([A-Za-z]+)\.? (\d{1,2})(?:st|nd|rd|th)?,? (\d{4})", v)
    if m:
        return _date(int(m.group(3)), _month(m.group(1)), int(m.group(2)))
    m = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?[ -]([A-Za-z]+)\.?[ -](\d{4})", v)
    if m:
        return _date(int(m.group(3)), _month(m.group(2)), int(m.group(1)))
    return None


def _month(name: str) -> int:
    name = name.lower()
    for i, full in enumerate(MONTHS, 1):
        if len(name) >= 3 and full.startswith(name):
            return i
    return 0


def _date(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def valid_dob(value: str) -> bool:
    parsed = parse_date(value)
    return parsed is not None and 1900 <= parsed.year <= 2020


ADDRESS_RE = re.compile(
    r"\d{1,6}[A-Za-z]? [A-Z0-9][\w.' -]*?\b(?:Street|St|Avenue|Ave|Road|Rd|Drive|Dr|Boulevard|Blvd"
    r"|Crescent|Cres|Way|Lane|Ln|Court|Ct|Parkway|Pkwy|Terrace|Place|Pl|Circle|Highway|Hwy|Route|Sideroad|Concession|Line"
    r"|Promenade|Trail|Row|Square|Chemin|rue|Rue|Boul|Gate|Close|Heights|Path)\b.*",
    re.DOTALL,
)
POSTAL_TAIL_RE = re.compile(r"(?:[A-Z]\d[A-Z] ?\d[A-Z]\d|\d{5}(?:-\d{4})?|[A-Z]{2}|[A-Za-z.]+|\d+[A-Z]?)$")


FRENCH_ADDRESS_RE = re.compile(
    r"\d{1,6}(?:-\d+)?,? (?:rue|Rue|chemin|Chemin|boul\.|Boul\.|boulevard|Boulevard|av\.|Av\.|avenue|Avenue|"
    r"montée|Montée|route|Route) [\w.' -]+.*",
    re.DOTALL,
)


def valid_address(value: str) -> bool:
    shape = ADDRESS_RE.fullmatch(value) or FRENCH_ADDRESS_RE.fullmatch(value)
    return bool(shape) and bool(POSTAL_TAIL_RE.search(value))


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def is_netmask(value: str) -> bool:
    addr = _ip(value)
    if not isinstance(addr, ipaddress.IPv4Address):
        return False
    bits = int(addr)
    inverted = bits ^ 0xFFFFFFFF
    # a netmask is ones then zeros; a wildcard (Cisco ACL) mask is zeros then ones
    return ((inverted + 1) & inverted) == 0 or ((bits + 1) & bits) == 0


def valid_ip(value: str) -> bool:
    addr = _ip(value)
    if addr is None or value in RESOLVERS or is_netmask(value):
        return False
    if any(addr in net for net in DOC_NETWORKS):
        return False
    return addr.is_private or addr.is_global


def valid_secret(value: str) -> bool:
    return (
        bool(value)
        and value == value.strip()
        and "\n" not in value
        and value.lower() not in PLACEHOLDERS
        and not re.fullmatch(r"[*x•.]+|\$\{?\w+\}?|%\w+%|<[^>]*>|\{\{.*\}\}|\[.*\]", value, re.IGNORECASE)
    )


PEM_RE = re.compile(
    r"-----BEGIN ((?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY)-----\n.+?\n-----END \1-----", re.DOTALL
)


def valid_private_key(value: str) -> bool:
    return bool(PEM_RE.fullmatch(value))


API_KEY_RES = [
    re.compile(r"(?:AKIA|ASIA)[A-Z2-7]{16}"),
    re.compile(r"[A-Za-z0-9+/]{40}"),  # AWS secret access key
    re.compile(r"ghp_[A-Za-z0-9]{36}"),
    re.compile(r"xox[bpas]-\d{10,13}-\d{10,13}-[A-Za-z0-9]{24}"),
    re.compile(r"https://hooks\.slack\.com/services/T[A-Z0-9]{8,10}/B[A-Z0-9]{8,10}/[A-Za-z0-9]{24}"),
    re.compile(r"AIza[A-Za-z0-9_-]{35}"),
    re.compile(r"(?:sk|rk)_live_[A-Za-z0-9]{24,99}"),
    re.compile(r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}"),
    re.compile(
        r"https://[a-z0-9-]+\.webhook\.office\.com/webhookb2/[0-9a-f-]{36}@[0-9a-f-]{36}"
        r"/IncomingWebhook/[0-9a-f]{32}/[0-9a-f-]{36}"
    ),
    re.compile(r"https://discord(?:app)?\.com/api/webhooks/\d{17,20}/[A-Za-z0-9_-]{60,80}"),
    re.compile(r"[0-9a-f]{32}|[0-9a-f]{40}"),
]
JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


def valid_api_key(value: str) -> bool:
    return any(r.fullmatch(value) for r in API_KEY_RES)


def valid_bearer(value: str) -> bool:
    return bool(JWT_RE.fullmatch(value) or re.fullmatch(r"[A-Za-z0-9._~+/-]{20,}=*", value))


VALIDATORS = {
    "CREDIT_CARD": valid_card,
    "US_SSN": valid_ssn,
    "CA_SIN": valid_sin,
    "IBAN": valid_iban,
    "ABA_ROUTING": lambda v: bool(re.fullmatch(r"\d{9}", v)) and us_rtn.is_valid(v),
    "BANK_ACCOUNT": lambda v: bool(re.fullmatch(r"\d{6,17}", v)),
    "EMAIL": valid_email,
    "PHONE": valid_phone,
    "DOB": valid_dob,
    "ADDRESS": valid_address,
    "IP_ADDRESS": valid_ip,
    "PASSWORD": valid_secret,
    "SIP_CREDENTIAL": valid_secret,
    "PRIVATE_KEY": valid_private_key,
    "API_KEY": valid_api_key,
    "BEARER_TOKEN": valid_bearer,
}

# ---------------------------------------------------------------------------------------------- regions

FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def quoted_regions(raw: str) -> list[tuple[int, int]]:
    """Character ranges written by someone other than the author: ``[quote]`` blocks and ``>`` lines.

    Code fences are skipped: a ``>`` or ``[quote]`` inside a fence is code, not a quotation.
    """
    regions: list[tuple[int, int]] = []
    fence: str | None = None
    depth = 0
    quote_start = 0
    pos = 0
    for line in raw.splitlines(keepends=True):
        start, end = pos, pos + len(line)
        pos = end
        stripped = line.rstrip("\r\n")
        m = FENCE_RE.match(stripped)
        if fence is not None:
            if (
                m
                and m.group(1)[0] == fence[0]
                and len(m.group(1)) >= len(fence)
                and not stripped[m.end() :].strip()
            ):
                fence = None
            continue
        if m and depth == 0:
            fence = m.group(1)
            continue
        if depth == 0 and re.match(r" {0,3}>", stripped):
            regions.append((start, end))
        # [quote] tags may share a line with text; track them by position
        for tok in re.finditer(r"\[quote(?:=[^\]]*)?\]|\[/quote\]", line, re.IGNORECASE):
            if tok.group(0).lower().startswith("[/"):
                if depth > 0:
                    depth -= 1
                    if depth == 0:
                        regions.append((quote_start, start + tok.end()))
            else:
                if depth == 0:
                    quote_start = start + tok.start()
                depth += 1
    if depth > 0:
        regions.append((quote_start, len(raw)))
    return regions


def code_regions(raw: str) -> list[tuple[int, int]]:
    regions = []
    fence: str | None = None
    fence_start = 0
    pos = 0
    for line in raw.splitlines(keepends=True):
        start, pos = pos, pos + len(line)
        m = FENCE_RE.match(line.rstrip("\r\n"))
        if fence is None and m:
            fence, fence_start = m.group(1), start
        elif fence is not None and m and m.group(1)[0] == fence[0]:
            regions.append((fence_start, pos))
            fence = None
    return regions


# ---------------------------------------------------------------------------------------------- leaks

# A dotted quad shortly after one of these words is taken for a release number, not an address.
VERSION_CONTEXT = re.compile(
    r"(?:version|firmware|release|build|load|mivb|mcd|micollab|connect|\bfw\b|\bsw\b|upgrade|\bv\b|\bsp\d*\b|"
    r"\bpr\d*\b|\bto\b|\bfrom\b|\bver\b|\brel\b|image|patch|software|user-agent|server:|mivoice|mbg|icp|agent|"
    r"center|business|micc|nupoint|flex|office 400|5000|recording|shoretel|aastra|\b\d{4}[ie]?\b)",
    re.IGNORECASE,
)
CARD_RUN_RE = re.compile(r"(?<![\w.-])\d(?:[ -]?\d){12,18}(?![\w-])")
EMAIL_RE = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
IPV4_RE = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)")
PHONE_RE = re.compile(r"(?<![\w+])(?:\+1[ -]?)?\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}(?!\d)")
SSN_CONTEXT_RE = re.compile(r"(?:ssn|social security)\D{0,20}(\d{3}-\d{2}-\d{4})", re.IGNORECASE)
LEAK_PATTERNS = [
    ("PRIVATE_KEY", re.compile(r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----")),
    ("API_KEY", re.compile(r"\b(?:AKIA|ASIA)[A-Z2-7]{16}\b")),
    ("API_KEY", re.compile(r"\bghp_[A-Za-z0-9]{36}\b")),
    ("API_KEY", re.compile(r"\bxox[bpas]-\d+-\d+-[A-Za-z0-9]+")),
    ("API_KEY", re.compile(r"hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]{24}")),
    ("API_KEY", re.compile(r"\bAIza[A-Za-z0-9_-]{35}\b")),
    ("API_KEY", re.compile(r"\b(?:sk|rk)_live_[A-Za-z0-9]{20,}")),
    ("API_KEY", re.compile(r"\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b")),
    ("BEARER_TOKEN", JWT_RE),
    ("BEARER_TOKEN", re.compile(r"Bearer [A-Za-z0-9._~+/-]{20,}")),
]


def _inside(span: tuple[int, int], regions: Iterable[tuple[int, int]]) -> bool:
    s, e = span
    return any(rs <= s and e <= re_ for rs, re_ in regions)


def _overlaps(span: tuple[int, int], regions: Iterable[tuple[int, int]]) -> bool:
    s, e = span
    return any(s < re_ and rs < e for rs, re_ in regions)


def find_leaks(raw: str, labels: list[dict]) -> list[str]:
    """Values that look sensitive beyond doubt but are neither labelled nor inside a quotation."""
    labelled = [(lab["start"], lab["end"]) for lab in labels]
    skip = labelled + quoted_regions(raw)
    problems = []

    def report(kind: str, m: re.Match[str], span: tuple[int, int] | None = None) -> None:
        span = span or m.span()
        if not _overlaps(span, skip):
            problems.append(f"unlabelled {kind}: {raw[span[0] : span[1]][:60]!r} at {span[0]}")

    for m in CARD_RUN_RE.finditer(raw):
        if valid_card(m.group(0)):
            report("CREDIT_CARD", m)
    for m in EMAIL_RE.finditer(raw):
        line_start = raw.rfind("\n", 0, m.start()) + 1
        in_sip = re.search(r"(?:sips?:|tel:)$", raw[max(0, m.start() - 5) : m.start()], re.IGNORECASE)
        call_id = re.match(r"\s*(?:Call-ID|i)\s*:", raw[line_start : m.start()], re.IGNORECASE)
        if valid_email(m.group(0)) and not in_sip and not call_id:
            report("EMAIL", m)
    for m in IPV4_RE.finditer(raw):
        line_start = raw.rfind("\n", 0, m.start()) + 1
        before = raw[max(line_start, m.start() - 32) : m.start()]
        if valid_ip(m.group(0)) and not VERSION_CONTEXT.search(before):
            report("IP_ADDRESS", m)
    for m in PHONE_RE.finditer(raw):
        if valid_phone(m.group(0)):
            report("PHONE", m)
    for m in SSN_CONTEXT_RE.finditer(raw):
        if valid_ssn(m.group(1)):
            report("US_SSN", m, m.span(1))
    for kind, pattern in LEAK_PATTERNS:
        for m in pattern.finditer(raw):
            if "EXAMPLE" in m.group(0):
                continue
            report(kind, m)
    return problems


# ---------------------------------------------------------------------------------------------- corpus


def check_post(post: dict, max_items: int | None = None) -> list[str]:
    pid = post.get("id", "?")
    raw = post.get("raw")
    labels = post.get("labels")
    kind = post.get("kind")
    out: list[str] = []
    if not isinstance(raw, str) or not isinstance(labels, list) or kind not in ("planted", "clean"):
        return [f"{pid}: malformed post"]
    if kind == "clean" and labels:
        out.append(f"{pid}: clean post has {len(labels)} labels")
    if kind == "planted" and not labels:
        out.append(f"{pid}: planted post has no labels")
    quotes = quoted_regions(raw)
    previous_end = -1
    for lab in sorted(labels, key=lambda x: (x["start"], x["end"])):
        t, s, e = lab.get("type"), lab.get("start"), lab.get("end")
        if (
            t not in VALIDATORS
            or not isinstance(s, int)
            or not isinstance(e, int)
            or not 0 <= s < e <= len(raw)
        ):
            out.append(f"{pid}: bad label {lab}")
            continue
        value = raw[s:e]
        if value != value.strip():
            out.append(f"{pid}: {t} span has surrounding whitespace: {value!r}")
        if not VALIDATORS[t](value):
            out.append(f"{pid}: {t} value fails its validator: {value[:80]!r}")
        if s < previous_end:
            out.append(f"{pid}: label {t} at {s} overlaps the previous label")
        previous_end = max(previous_end, e)
        if _overlaps((s, e), quotes):
            out.append(f"{pid}: {t} label at {s} is inside a quotation")
    if max_items is not None and kind == "planted":
        distinct = {(lab["type"], raw[lab["start"] : lab["end"]]) for lab in labels}
        if not 1 <= len(distinct) <= max_items:
            out.append(f"{pid}: {len(distinct)} distinct planted items (want 1-{max_items})")
    out.extend(f"{pid}: {p}" for p in find_leaks(raw, labels))
    return out


def check_posts(posts: list[dict], max_items: int | None = None) -> list[str]:
    problems = []
    seen = set()
    for post in posts:
        if post.get("id") in seen:
            problems.append(f"{post.get('id')}: duplicate id")
        seen.add(post.get("id"))
        problems.extend(check_post(post, max_items))
    return problems


def type_counts(posts: list[dict]) -> dict[str, int]:
    counts = dict.fromkeys(TYPES, 0)
    for post in posts:
        for lab in post["labels"]:
            counts[lab["type"]] += 1
    return counts


def summary(posts: list[dict]) -> str:
    counts = type_counts(posts)
    kinds = {k: sum(1 for p in posts if p["kind"] == k) for k in ("planted", "clean")}
    quoted = sum(1 for p in posts if quoted_regions(p["raw"]))
    fenced = sum(1 for p in posts if code_regions(p["raw"]))
    sizes = sorted(len(p["raw"]) for p in posts)
    lines = [
        f"posts: {len(posts)} ({kinds['planted']} planted, {kinds['clean']} clean); "
        f"{quoted} with quotations, {fenced} with code fences",
        f"size: median {sizes[len(sizes) // 2]} chars, max {sizes[-1]}, total {sum(sizes)}"
        if sizes
        else "size: -",
        f"labels: {sum(counts.values())}",
    ]
    lines += [f"  {t:<15} {n}" for t, n in counts.items()]
    return "\n".join(lines)
