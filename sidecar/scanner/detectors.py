"""The detectors: each finds candidates of its types in a post and checks them with a validator.

Telephony posts are full of numbers that look like personal data and are not: extensions, firmware
versions (``9.1.0.15`` is also an IPv4 address), MAC addresses, SIP URIs, headers and tags, order and RMA
numbers, dial plans and timestamps. So a pattern alone never decides:

- checksummed types must pass their checksum (python-stdnum: Luhn, mod-97, ABA) and a number that the
  words before it call an order, RMA, ticket, serial or call id is not a card;
- phones must be written as phone numbers are (separators or a leading ``+``; a bare digit run only after a
  word like "cell" or "call me"), be valid for phonenumbers, and not sit in a SIP URI or header;
- IP addresses are checked by ``ipaddress`` and skipped when documentation ranges, netmasks, public
  resolvers, networks (``/24``) or, by the words before them, version numbers;
- passwords are values after a password key or phrase, and not placeholders (``********``, ``${VAR}``,
  ``<password>``, ``changeme``...); in prose the value must look like a password (a digit, a symbol or
  mixed case) or be quoted;
- emails skip documentation domains, role addresses (support@, info@...) and SIP/extension user parts.

Every regex has bounded repetitions (or atomic groups), so the scan is linear in the length of the post.
A pattern that runs over the whole post starts with a literal or with the class of its first character,
any lookbehind after it: the regex engine then skips in C to where a match can start, where a leading
lookbehind would be tried at every position. Patterns keyed to words run only where a substring search
found the word. The whole-post patterns that cost most have a locator (``LOCATORS``): with Hyperscan, they run
only over the lines their locator matched (see prefilter.py for why that finds the same).
"""

from __future__ import annotations

import functools
import ipaddress
import itertools
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import phonenumbers
from stdnum import iban as stdnum_iban
from stdnum import luhn
from stdnum.ca import sin as stdnum_sin
from stdnum.us import rtn as stdnum_rtn
from stdnum.us import ssn as stdnum_ssn

from sidecar.scanner.findings import FindingType as T
from sidecar.scanner.findings import Severity
from sidecar.scanner.prefilter import EVERYWHERE, Lines
from sidecar.scanner.text import lower

# Locators, by name: Hyperscan expressions matching, within a line, wherever the named pattern can find
# something its detector keeps (see prefilter.py). Each lookbehind becomes "the line's start or a character
# it allows", each lookahead "a character it allows, or the line's end".
LOCATORS: dict[str, tuple[str, ...]] = {}
WORDS: set[str] = set()  # see _words()


def _locate(name: str, core: str, followed_by: str = "", or_end: str = "") -> None:
    """``core``, then a character of ``followed_by`` or (after ``or_end``) the line's end; a name located
    more than once matches where any of its locators does."""
    found = (f"{core}(?:{followed_by})", f"{core}{or_end}$") if followed_by else (core,)
    LOCATORS[name] = LOCATORS.get(name, ()) + found


@dataclass(frozen=True, slots=True)
class Candidate:
    type: str
    start: int
    end: int
    normalized: str  # what the fingerprint is computed from
    preview: str
    severity: Severity | None = None  # None: the type's configured severity


DOT = "•"


def _distinct(matches: Iterable[re.Match[str] | None]) -> Iterator[re.Match[str]]:
    """The matches of windowed searches, each once (neighbouring windows find the same one)."""
    seen: set[int] = set()
    for match in matches:
        if match is not None and match.start() not in seen:
            seen.add(match.start())
            yield match


def _words(*words: str) -> tuple[str, ...]:
    """Words the detectors look for (lowercase ASCII): the prefilter finds them all in its one pass."""
    WORDS.update(words)
    return words


def _clause_before(text: str, start: int, width: int = 40) -> str:
    """The ``width`` characters before ``start``, lowercased, cut at the last sentence end or blank line:
    the words that speak of the number, not those of the paragraph before ("e.g." ends no sentence)."""
    window = text[max(0, start - width) : start].lower().replace("e.g.", "e_g_").replace("i.e.", "i_e_")
    cut = max(window.rfind(s) for s in ("\n\n", ". ", ".\n", "! ", "? "))
    return (window[cut + 2 :] if cut >= 0 else window).replace("e_g_", "e.g.").replace("i_e_", "i.e.")


def _before(text: str, start: int, width: int = 40) -> str:
    return text[max(0, start - width) : start].lower()


def _line_of(text: str, position: int) -> str:
    start = text.rfind("\n", 0, position) + 1
    end = text.find("\n", position)
    return text[start : end if end >= 0 else len(text)]


# --- payment cards ---------------------------------------------------------------------------------------

_CARD = re.compile(r"\d(?<![\w.:/@#+-]\d)(?:[ -]?\d){12,18}(?![\w-]|[.,]\d)")
_locate("card", r"(?:^|[^\w.:/@#+\-\n])\d(?:[ \-]?\d){12,}", r"[^\w\-.,\n]|[.,][^\d\n]", "[.,]?")
_CARD_WORDS = re.compile(
    r"card|visa|master|amex|american express|discover|\bcc\b|credit|debit|payment|cvv|exp"
)
_NOT_CARD_WORDS = re.compile(
    r"order|rma|ticket|case|serial|s/n|\bsn\b|invoice|tracking|\bpo\b|call-?id|\bid\b|ref|imei|iccid|licen[cs]e"
    r"|part|sku|account|acct|confirmation|conf\b|\btag\b|branch|guid|uuid|session|build"
)


def _card_issuer(digits: str) -> bool:
    n = len(digits)
    two, four, six = int(digits[:2]), int(digits[:4]), int(digits[:6])
    if digits[0] == "4":
        return n in (13, 16, 19)  # Visa
    if 51 <= two <= 55 or 2221 <= four <= 2720:
        return n == 16  # Mastercard
    if two in (34, 37):
        return n == 15  # American Express
    if digits.startswith("6011") or two == 65 or 644 <= int(digits[:3]) <= 649 or 622126 <= six <= 622925:
        return 16 <= n <= 19  # Discover
    if 3528 <= four <= 3589:
        return 16 <= n <= 19  # JCB
    if two in (36, 38, 39) or 300 <= int(digits[:3]) <= 305:
        return 14 <= n <= 19  # Diners Club
    if two == 62:
        return 16 <= n <= 19  # UnionPay
    return False


def cards(text: str, lines: Lines = EVERYWHERE) -> Iterator[Candidate]:
    for match in lines.finditer("card", _CARD, text):
        written = match.group(0)
        digits = re.sub(r"\D", "", written)
        if not 13 <= len(digits) <= 19 or not _card_issuer(digits) or not luhn.is_valid(digits):
            continue
        groups = re.split(r"[ -]", written)
        if len(groups) > 1 and not all(3 <= len(g) <= 6 for g in groups):
            continue  # "4 1 1 1 ..." or "41-1111..." is not how anyone writes a card
        before = _clause_before(text, match.start())
        if _NOT_CARD_WORDS.search(before) and not _CARD_WORDS.search(before):
            continue
        masked = "**** " * ((len(digits) - 4) // 4) + digits[-4:]
        yield Candidate(T.CREDIT_CARD, match.start(), match.end(), digits, masked)


# --- national identifiers, bank details ------------------------------------------------------------------

_NINE = re.compile(r"(\d(?<![\w-]\d)\d\d)([- ]?)(\d{2,3})\2(\d{3,4})(?![\w-])")
_locate("nine", r"(?:^|[^\w\-\n])\d\d\d[\- ]?\d\d\d?[\- ]?\d\d\d", r"\d?[^\w\-\n]", r"\d?")  # nine digits
_SSN_WORDS = re.compile(r"ssn|social security|soc\.? sec")
_SIN_WORDS = re.compile(r"\bsin\b|social insurance|nas\b|num[ée]ro d.assurance")
_ACCOUNT_NEAR = re.compile(r"acct|account|a/c")
_ACCOUNT_WORDS = _words("account", "acct", "a/c")
_ROUTING_WORDS = re.compile(r"routing|\baba\b|\brtn\b|transit")
_IBAN = re.compile(r"[A-Z][A-Z]\d\d(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b")
_locate("iban", r"[A-Z][A-Z]\d\d(?: ?[A-Z0-9]{4}){2}")
_ACCOUNT = re.compile(
    r"(?i)\b(?:bank\s+account|account\s*(?:number|no\.?|num\.?|#)|acct\.?\s*(?:number|no\.?|num\.?|#)?|a/c)"
    r"\s*(?:is|:|#|=)?\s*(\d(?:[ -]?\d){5,16})(?![\w-])"
)


def national_ids(text: str, lines: Lines = EVERYWHERE) -> Iterator[Candidate]:
    lowered = lower(text)
    ssn_words = "ssn" in lowered or "social" in lowered or "soc" in lowered
    bare_words = ssn_words or any(w in lowered for w in ("routing", "aba", "rtn", "transit", "sin", "nas"))
    for match in lines.finditer("nine", _NINE, text):
        first, sep, middle, last = match.groups()
        digits = first + middle + last
        if len(digits) != 9:
            continue
        before = lowered[max(0, match.start() - 60) : match.start()]
        if sep and len(middle) == 2:  # 123-45-6789
            if (sep == "-" or _SSN_WORDS.search(before)) and stdnum_ssn.is_valid(digits):
                yield Candidate(T.US_SSN, match.start(), match.end(), digits, f"***-**-{digits[-4:]}")
        elif sep and len(middle) == 3:  # 046 454 286
            if stdnum_sin.is_valid(digits) and not (sep == "-" and _SSN_WORDS.search(before)):
                yield Candidate(T.CA_SIN, match.start(), match.end(), digits, f"*** *** {digits[-3:]}")
        elif not sep and bare_words:
            near = before[-40:]
            if _SSN_WORDS.search(near) and stdnum_ssn.is_valid(digits):
                yield Candidate(T.US_SSN, match.start(), match.end(), digits, f"***-**-{digits[-4:]}")
            elif (
                _ROUTING_WORDS.search(near)
                and not _ACCOUNT_NEAR.search(near[-14:])
                and stdnum_rtn.is_valid(digits)
            ):
                yield Candidate(T.ABA_ROUTING, match.start(), match.end(), digits, f"*****{digits[-4:]}")
            elif _SIN_WORDS.search(before) and stdnum_sin.is_valid(digits):
                yield Candidate(T.CA_SIN, match.start(), match.end(), digits, f"*** *** {digits[-3:]}")
    for match in lines.finditer("iban", _IBAN, text):
        if match.start() == 0 or not text[match.start() - 1].isalnum():
            yield from _iban(match)
    account_hits = lines.hits(lowered, _ACCOUNT_WORDS)
    if account_hits:
        # "bank account" starts five characters before its "account": look from there.
        windows = (_ACCOUNT.search(text, max(0, hit - 5), hit + 60) for hit in account_hits)
        for match in _distinct(windows):
            digits = re.sub(r"\D", "", match.group(1))
            if 6 <= len(digits) <= 17:
                masked = f"{'*' * (len(digits) - 3)}{digits[-3:]}"
                yield Candidate(T.BANK_ACCOUNT, match.start(1), match.end(1), digits, masked)


def _iban(match: re.Match[str]) -> Iterator[Candidate]:
    """The longest prefix of the match (at a group boundary) that is a valid IBAN."""
    written = match.group(0)
    cut = len(written)
    while cut >= 15:
        compact = written[:cut].replace(" ", "")
        if stdnum_iban.is_valid(compact):
            preview = f"{compact[:2]}** **** {compact[-4:]}"
            yield Candidate(T.IBAN, match.start(), match.start() + cut, compact, preview)
            return
        space = written.rfind(" ", 0, cut)
        cut = space if space > 0 else cut - 1


# --- email -----------------------------------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![\w.%+-])([A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,63}))@((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}"
    r"[A-Za-z]{2,24})(?![\w-])"
)
_DOC_DOMAINS = ("example.com", "example.org", "example.net", "example.edu")
_DOC_TLDS = (
    "example",
    "test",
    "invalid",
    "localhost",
    "local",
    "lan",
    "internal",
    "localdomain",
    "home",
    "corp",
)
_ROLE_USERS = frozenset(
    [
        "postmaster",
        "hostmaster",
        "abuse",
        "noreply",
        "no-reply",
        "donotreply",
        "do-not-reply",
        "support",
        "info",
        "sales",
        "admin",
        "administrator",
        "helpdesk",
        "help",
        "service",
        "services",
        "billing",
        "accounts",
        "accounting",
        "contact",
        "webmaster",
        "security",
        "privacy",
        "membership",
        "members",
        "board",
        "hr",
        "it",
        "ops",
        "noc",
        "voicemail",
        "fax",
        "pbx",
        "sip",
        "alerts",
        "alert",
        "notifications",
        "notify",
        "root",
        "marketing",
        "press",
        "media",
        "jobs",
        "careers",
        "team",
        "hello",
        "enquiries",
        "inquiries",
        "orders",
        "reception",
        "mail",
        "system",
        "operator",
        "servicedesk",
        "itsupport",
        "techsupport",
        "treasurer",
        "secretary",
        "president",
        "chair",
        "events",
        "facilities",
        "voip",
        "telecom",
        "telephony",
        "operations",
        "network",
        "networks",
        "sysadmin",
        "systems",
        "infra",
        "monitoring",
        "payroll",
        "finance",
        "purchasing",
        "procurement",
        "licensing",
        "renewals",
        "invoices",
        "shipping",
        "returns",
        "warranty",
        "frontdesk",
        "maintenance",
        "helpline",
        "desk",
        "dept",
        "staff",
        "everyone",
        "all",
        "list",
        "newsletter",
        "news",
        "registrar",
        "admissions",
        "tech",
        "engineering",
        "phones",
        "telco",
        "ict",
    ]
)


_LOCAL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-")


_HEX_ID = re.compile(r"[0-9a-fA-F]{12,}")
_SERVICE_HOSTS = ("sip", "trunk", "pbx", "voip", "proxy", "registrar", "sbc", "gw", "gateway", "mx", "smtp")


def _personal(text: str, match: re.Match[str], user: str, domain: str) -> bool:
    """A person's address: not a SIP URI or header, a call id, an extension or a role mailbox."""
    before = text[max(0, match.start() - 5) : match.start()].lower()
    if before.endswith(("sip:", "sips:", "tel:")) or user.isdigit() or _HEX_ID.fullmatch(user):
        return False
    if domain.split(".", 1)[0] in _SERVICE_HOSTS:
        return False
    if any(part in _ROLE_USERS for part in re.split(r"[._+-]", user.lower())):
        return False
    return not _sip_header_line(text, match.start())


def emails(text: str, allowed_domains: tuple[str, ...] = ()) -> Iterator[Candidate]:
    at = text.find("@")
    done = -1
    while at >= 0:
        start, floor = at, max(0, at - 64)
        while start > floor and text[start - 1] in _LOCAL_CHARS:
            start -= 1
        while start < at and not text[start].isalnum():
            start += 1  # the address starts with a letter or digit
        match = _EMAIL.match(text, start) if start >= done and start < at else None
        at = text.find("@", at + 1)
        if match is None:
            continue
        done = match.end()
        user, domain = match.group(1), match.group(2).lower()
        if not _personal(text, match, user, domain):
            continue
        documentation = any(domain == d or domain.endswith("." + d) for d in _DOC_DOMAINS)
        if documentation or domain.rsplit(".", 1)[-1] in _DOC_TLDS:
            continue
        if any(domain == d or domain.endswith("." + d) for d in allowed_domains):
            continue
        address = f"{user}@{domain}".lower()
        yield Candidate(T.EMAIL, match.start(), match.end(), address, f"{user[0]}***@{domain}")


# --- phone -----------------------------------------------------------------------------------------------

# Possessive repetitions: a timestamp ("2024-01-02 12:49:17") is not backed off into a shorter number.
# Written as phone numbers are: groups with separators ("(613) 722-4410", "+44 20 7946 0018"), a "+" and a
# digit run ("+16137224410", looked for when the post has a "+"), or a bare 10-11 digit run (only when the
# post speaks of phones at all: the words are checked again right before each number).
_PHONE = re.compile(
    r"[\d+(](?<![\w@:/.=+#-].)"  # the first character, then what may not come before it
    r"(?:(?<=\+) ?(?:\(\d{1,4}\)[ .-]?)?\d{1,5}+|(?<=\()\d{1,4}\)[ .-]?\d{1,5}+|(?<=\d)\d{0,4}+)"
    r"(?:[ .-]\(?\d{1,8}+\)?){1,5}+(?![\w@-]|[.:]\d)"
)
_DOTTED_QUAD = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_DOTTED_PHONE = re.compile(r"\+?1?[ .]?\(?\d{3}\)?[.]\d{3}[.]\d{4}")
_PHONE_PLUS = re.compile(r"\+(?<![\w@:/.=#-]\+)\d{8,15}(?![\w@-]|\.\d)")
# What phones() keeps: at least ten digits (or a "+" and eight) with up to three of " ()-" between each two,
# or the dotted North American shape (613.722.4410).
_locate(
    "phone",
    r"(?:^|[^\w@:/.=+#\-\n])(?:\+[ (]{0,2}\d(?:[ ()\-]{0,3}\d){7,}|\(?\d(?:[ ()\-]{0,3}\d){9,})",
    r"[^\w@\-.:\n]|[.:][^\d\n]",
    "[.:]?",
)
_locate("phone", r"\d{3}\)?\.\d{3}\.\d{4}", r"[^\w@\-.:\n]|[.:][^\d\n]", "[.:]?")
_locate("phone_plus", r"(?:^|[^\w@:/.=#\-\n])\+\d{8,}", r"[^\w@\-.\n]|\.[^\d\n]", r"\.?")
_PHONE_BARE = re.compile(r"(?<![\w@:/.=+#-])\d{10,11}(?![\w@-]|\.\d)")
_locate("phone_bare", r"(?:^|[^\w@:/.=+#\-\n])\d{10,11}", r"[^\w@\-.\n]|\.[^\d\n]", r"\.?")
_PHONE_TALK = _words(
    "phone",
    "cell",
    "mobile",
    "call",
    "reach",
    "text me",
    "direct",
    "tel",
    "fax",
    "contact",
    "number",
)
_PHONE_WORDS = re.compile(
    r"phone|cell|mobile|\bmob\b|call me|call him|call her|reach me|reach him|reach her|text me|direct line"
    r"|\bdirect\b|\btel\b|\bph\b|contact|number is|my number|landline|whatsapp|\bfax\b"
)
_NOT_PHONE_WORDS = re.compile(
    r"order|rma|ticket|\bcase|serial|s/n|invoice|tracking|\bpo\b|call-?id|\bid\b|\bref|licen[cs]e|\bpart\b"
    r"|part (?:no|number|#)|sku|version|firmware|build|release|account|acct|model|\bmac\b|\bport\b|vlan"
    r"|extension|\bext\b|\bdn\b|cseq|branch|quote|\bpo#|confirmation|reference|batch|\blot\b"
)
_SIP_HEADER_NAMES = (
    "from", "to", "contact", "p-asserted-identity", "p-preferred-identity", "remote-party-id", "diversion",
    "via", "call-id", "cseq", "refer-to", "referred-by", "history-info", "request-uri", "route",
    "record-route", "f", "t", "m", "v", "i", "l", "c",
)  # fmt: skip
_SIP_HEADERS = (
    *(f"{name}:" for name in _SIP_HEADER_NAMES),
    "invite ",
    "register ",
    "options ",
    "bye ",
    "sip/2.0",
)
_DATE_SHAPE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|\d{1,2}:\d{2}")


def _sip_header_line(text: str, position: int) -> bool:
    """A SIP message's header line (From, To, Contact, P-Asserted-Identity...), not an email's From:."""
    line = _line_of(text, position).lstrip().lower()
    sip = "sip:" in line or "tel:" in line or ";tag=" in line
    return sip and line.startswith(_SIP_HEADERS)


@functools.lru_cache(maxsize=4096)
def _valid_phone(written: str) -> tuple[str, str] | None:
    """(E.164, national number) of a valid, real-looking number; None otherwise. Cached: a log repeats the
    same numbers, and phonenumbers' validation is the costliest step of a scan."""
    digits = "".join(c for c in written if c.isdigit())
    if len(digits) == 11 and digits[0] == "1":
        nanp = digits[1:]  # 1 613 722 4410, +1 613 722 4410
    else:
        nanp = digits if len(digits) == 10 and not written.lstrip().startswith("+") else ""
    if nanp[3:6] == "555":
        return None  # 555 numbers are the film and documentation ones (checked before parsing: cheap)
    try:
        number = phonenumbers.parse(written, "US")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    national = str(number.national_number)
    if number.country_code == 1 and national[3:6] == "555":
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), national


def _bare_phone_after(text: str, hit: int, lines: Lines) -> re.Match[str] | None:
    """A bare 10-11 digit run starting within 60 characters after a phone word, checked against the whole
    post (not only the window, whose end would pass for the end of the number)."""
    if not lines.near("phone_bare", hit, hit + 60):
        return None  # no such run in the lines there
    near = _PHONE_BARE.search(text, hit, hit + 60)
    return _PHONE_BARE.match(text, near.start()) if near is not None else None


def phones(text: str, lines: Lines = EVERYWHERE) -> Iterator[Candidate]:
    matches: Iterable[re.Match[str]] = lines.finditer("phone", _PHONE, text)
    if "+" in text:
        matches = itertools.chain(matches, lines.finditer("phone_plus", _PHONE_PLUS, text))
    lowered = lower(text)
    talk = lines.hits(lowered, _PHONE_TALK)
    if talk:  # a bare digit run is a phone only right after words about phones: look only there
        matches = itertools.chain(
            matches, (m for hit in talk if (m := _bare_phone_after(text, hit, lines)) is not None)
        )
    for match in matches:
        written = match.group(0)
        digits = sum(map(str.isdigit, written))
        plus = written.lstrip().startswith("+")
        if not (10 <= digits <= 15 or (plus and digits >= 8)):
            continue
        if _DATE_SHAPE.fullmatch(written) or _DOTTED_QUAD.fullmatch(written):
            continue
        if written.endswith(")") and written.count(")") > written.count("("):
            written = written[:-1]  # "(613.722.4410)": the closing bracket is the sentence's
        separated = any(c in " .()/-" for c in written.strip())
        before = _clause_before(text, match.start(), 40)
        near = before[-22:]
        if len(before) > 22 and not before[-23].isspace():
            near = near.split(None, 1)[-1] if " " in near or "\n" in near else ""  # no half words
        if _NOT_PHONE_WORDS.search(near):
            continue  # "Order: 4093967167", "Partner quote 4756586784"
        context = bool(_PHONE_WORDS.search(before))
        if not (plus or separated or context):
            continue  # a bare run of digits: an order, a SIP tag, a timestamp
        if "." in written and not _DOTTED_PHONE.fullmatch(written.strip()):
            continue  # dots: only the North American 613.722.4410 shape
        if _sip_header_line(text, match.start()) or "sip:" in before or "tel:" in before[-6:]:
            continue
        valid = _valid_phone(written)
        if valid is None:
            continue
        e164, national = valid
        start = match.start() + (len(written) - len(written.lstrip()))
        yield Candidate(
            T.PHONE, start, match.start() + len(written), e164, f"{DOT * 3}-{DOT * 3}-{national[-4:]}"
        )


# --- dates of birth, street addresses --------------------------------------------------------------------

_MONTHS = (
    "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
    "|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_DATE = re.compile(
    rf"(?i)\b(?:\d{{4}}-\d{{1,2}}-\d{{1,2}}|\d{{1,2}}[/.-]\d{{1,2}}[/.-](?:\d{{4}}|\d{{2}})"
    rf"|(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?[\s-]+(?:{_MONTHS})\.?,?[\s-]+\d{{4}})\b"
)
_BIRTH_HINTS = _words("birth", "dob", "d.o.b", "born")
_THIS_YEAR_BOUND = 2100  # a birth year after this is no birth year (the scanner reads no clock)
_BIRTH_WORDS = re.compile(
    r"\bdob\b|d\.o\.b|date of birth|birth ?date|born|birthday|\bb\.\s*$|\bage\b.*\bborn"
)


def dates_of_birth(text: str, lines: Lines = EVERYWHERE) -> Iterator[Candidate]:
    lowered = lower(text)
    if not ("birth" in lowered or "dob" in lowered or "d.o.b" in lowered or "born" in lowered):
        return
    done = 0
    for hit in lines.hits(lowered, _BIRTH_HINTS):
        match = _DATE.search(text, max(hit, done), hit + 60)
        if match is None or not _BIRTH_WORDS.search(_before(text, match.start(), 35)):
            continue
        done = match.end()
        years = re.findall(r"\d{4}", match.group(0))
        if years and not 1900 <= int(years[-1]) <= _THIS_YEAR_BOUND:
            continue
        yield Candidate(T.DOB, match.start(), match.end(), match.group(0).lower(), "••••-••-••")


_STREET_TYPES = (
    "Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Drive|Dr|Lane|Ln|Court|Ct|Crescent|Cres|Way|Place|Pl"
    "|Parkway|Pkwy|Terrace|Terr|Circle|Cir|Highway|Hwy|Trail|Trl|Square|Sq|Row|Heights|Hts|Close|Grove"
    "|Promenade|Pike|Plaza|Loop|Path"
)
_ADDRESS = re.compile(
    rf"\b\d{{1,6}}[A-Za-z]?(?:-\d{{1,5}})?\s+(?:(?:N|S|E|W|North|South|East|West)\.?\s+)?"
    rf"(?:(?:[A-Z][A-Za-z'\u2019.-]{{0,20}}|\d{{1,3}}(?:st|nd|rd|th))\s+){{1,4}}(?:{_STREET_TYPES})\b\.?"
    rf"(?:\s+(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West)\b\.?)?"
)
_ADDRESS_TAIL = re.compile(
    r"(?:,?\s*(?:Suite|Ste\.?|Unit|Apt\.?|#)\s*[\w-]{1,8})?"
    r"(?:,\s*[A-Z][A-Za-z.'-]{1,25}(?:\s[A-Z][A-Za-z.'-]{1,25}){0,2})?"
    r"(?:,?\s+[A-Z]{2})?"
    r"(?:,?\s+(?:\d{5}(?:-\d{4})?|[ABCEGHJ-NPRSTVXY]\d[A-Z][ -]?\d[A-Z]\d))"
)


_STREET_WORD = re.compile(rf"(?:{_STREET_TYPES})\b")


def addresses(text: str, _lines: Lines = EVERYWHERE) -> Iterator[Candidate]:
    done = -1
    for street in _STREET_WORD.finditer(text):
        if street.start() > 0 and text[street.start() - 1].isalnum():
            continue
        # The number and the name come before the street type: look in the 120 characters before it.
        match = _ADDRESS.search(text, max(done, street.start() - 120), street.end() + 30)
        if match is None or match.end() < street.end():
            continue
        end = match.end()
        tail = _ADDRESS_TAIL.match(text, end)
        if tail is not None and tail.end() > end:
            end = tail.end()
        done = end
        kind = match.group(0).split()[-1].rstrip(".")
        yield Candidate(T.ADDRESS, match.start(), end, text[match.start() : end].lower(), f"{DOT * 4} {kind}")


# --- IP addresses ----------------------------------------------------------------------------------------

_IPV4 = re.compile(r"\d(?<![\w.-]\d)\d{0,2}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?![\w-]|\.\d)")
_locate("ipv4", r"(?:^|[^\w.\-\n])\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}", r"[^\w\-.\n]|\.[^\d\n]", r"\.?")
_IPV6 = re.compile(
    r"(?<![\w:.-])(?:[0-9A-Fa-f]{1,4}:){1,7}(?::|(?::[0-9A-Fa-f]{1,4}){1,7}|[0-9A-Fa-f]{1,4})(?![\w:-]|\.\w)"
)
# In full: eight groups, no "::" (which the pattern above finds); looked for only on the lines the prefilter
# finds eight such groups on (a MAC address has six, a time three).
_IPV6_FULL = re.compile(r"(?<![\w:.-])(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}(?![\w:-]|\.\w)")
_locate("ipv6full", r"(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}")
_VERSION_TAIL = re.compile(r"(?:v|r|sp\d*|pr\d*|fp\d*)")
# Products whose name comes right before their version ("3300 ICP 16.0.3.64", "MiVoice Business 10.4.1.80").
_PRODUCTS = frozenset(
    (
    "3cx", "400", "5000", "aastra", "appliance", "asterisk", "avaya", "build", "builds", "business",
    "center", "centre", "cisco", "cloudlink", "connect", "cucm", "dect", "edition", "firmware", "flex",
    "freepbx", "icp", "mbg", "mbgs", "mcd", "micc", "micloud", "micollab", "micontact", "mitel", "mivb",
    "mivcr", "mivoice", "mxone", "nupoint", "omm", "openscape", "polycom", "recording", "release",
    "rfp", "shoretel", "sip-dect", "sx-200", "ucx", "version", "yealink",
    )
)  # fmt: skip
_VERSION_WINDOW = re.compile(
    r"version|\bver[ .]|firmware|\bfw[ :]|release|\brel |\bbuild(?:s|\b)|software|\bsw |\bload\b|\bpatch"
    r"|upgrad|updat|hotfix|running|installed|\b(?:sp|pr|fp)\d|\be\.g\.|=\s*$|\d+\.\d+\.\d+(?:\.\d+)?\s+(?:to|->|and|or|from)\s+$"
)
_HOST_WORDS = frozenset(
    ("at", "is", "ping", "via", "behind", "address", "ip", "host", "server", "gateway", "proxy", "@",
     "points", "resolves", "router", "reach")
)  # fmt: skip
_RESOLVERS = frozenset(
    [
        "8.8.8.8",
        "8.8.4.4",
        "1.1.1.1",
        "1.0.0.1",
        "9.9.9.9",
        "149.112.112.112",
        "208.67.222.222",
        "208.67.220.220",
        "4.2.2.1",
        "4.2.2.2",
        "64.6.64.6",
        "64.6.65.6",
        "2001:4860:4860::8888",
        "2001:4860:4860::8844",
        "2606:4700:4700::1111",
    ]
)
_DOCUMENTATION_V6 = ipaddress.IPv6Network("2001:db8::/32")


def _is_mask(value: int) -> bool:
    inverted = value ^ 0xFFFFFFFF
    # A netmask is ones then zeros (255.255.255.0); a wildcard mask zeros then ones (0.0.0.255).
    return (inverted & (inverted + 1)) == 0 or (value & (value + 1)) == 0


def _ipv4_skipped(value: int) -> bool:
    """Unspecified, loopback, link-local, multicast, reserved, broadcast-looking or a documentation range."""
    top = value >> 24
    return (
        top in (0, 127)
        or top >= 224
        or (value >> 16) == 0xA9FE  # 169.254/16
        or (value >> 8) in (0xC00002, 0xC63364, 0xCB0071)  # 192.0.2/24, 198.51.100/24, 203.0.113/24
        or value & 0xFF == 0xFF
    )


def _ipv4_private(value: int) -> bool:
    return (
        value >> 24 == 10
        or value >> 20 == 0xAC1  # 172.16/12
        or value >> 16 == 0xC0A8  # 192.168/16
        or value >> 22 == 0x191  # 100.64/10, carrier-grade NAT
    )


@functools.lru_cache(maxsize=4096)
def _ipv4_value(written: str) -> int | None:
    """The address as a number, or None when, whatever the words around it, it is none to report. Cached: a
    log repeats its addresses."""
    parts = written.split(".")
    if any(len(part) > 1 and part[0] == "0" for part in parts):
        return None  # 10.01.2024 is a date; addresses are written without leading zeros
    a, b, c, d = (int(part) for part in parts)
    if max(a, b, c, d) > 255:
        return None
    value = (a << 24) | (b << 16) | (c << 8) | d
    if _ipv4_skipped(value) or _is_mask(value) or written in _RESOLVERS:
        return None
    return value


def ip_addresses(text: str, lines: Lines = EVERYWHERE) -> Iterator[Candidate]:
    if "." in text:
        for match in lines.finditer("ipv4", _IPV4, text):
            written = match.group(0)
            value = _ipv4_value(written)
            if value is None or _not_a_host(text, match):
                continue
            preview = f"{value >> 24}.{DOT}.{DOT}.{DOT}"
            severity = Severity.LOW if _ipv4_private(value) else None
            yield Candidate(T.IP_ADDRESS, match.start(), match.end(), written, preview, severity)
    for match in itertools.chain(_ipv6_candidates(text), lines.finditer("ipv6full", _IPV6_FULL, text)):
        if _not_an_address(match.group(0)):
            continue
        try:
            address = ipaddress.IPv6Address(match.group(0))
        except ValueError:
            continue
        if (
            address.is_unspecified
            or address.is_loopback
            or address.is_multicast
            or address.is_link_local
            or address in _DOCUMENTATION_V6
            or str(address) in _RESOLVERS
            or _not_a_host(text, match)
        ):
            continue
        preview = f"{address.exploded.split(':')[0]}:{DOT}:{DOT}"
        severity = Severity.LOW if address.is_private else None
        yield Candidate(T.IP_ADDRESS, match.start(), match.end(), str(address), preview, severity)


_HEX_OR_COLON = frozenset("0123456789abcdefABCDEF:")
_HEX_RUN = re.compile(r"[0-9A-Fa-f:]+")


def _ipv6_candidates(text: str) -> Iterator[re.Match[str]]:
    """IPv6 addresses as they are written, with "::": each "::" found by substring search, the pattern tried
    from the start of the run of hex digits and colons it sits in (at most 39 characters: an address).
    Addresses in full, without "::", are ``_IPV6_FULL``'s."""
    at = text.find("::")
    while at >= 0:
        start, floor = at, max(0, at - 39)
        while start > floor and text[start - 1] in _HEX_OR_COLON:
            start -= 1
        match = _IPV6.match(text, start)
        if match is not None:
            yield match
        run = _HEX_RUN.match(text, at)
        at = text.find("::", run.end() if run is not None else at + 2)  # this run's start was tried


def _not_an_address(written: str) -> bool:
    """Shaped like an IPv6 address, but words (``Bad::Face``, ``a::b`` in C++: addresses hold digits), or
    eight groups of at most two hex digits (``20:00:00:25:b5:00:00:0f``: a Fibre Channel WWN or an EUI-64,
    written as bytes; an address in full keeps its leading zeros, ``2001:0db8:...``, or has longer groups)."""
    if not any(ch.isdigit() for ch in written):
        return True
    return "::" not in written and all(len(group) <= 2 for group in written.split(":"))


def _not_a_host(text: str, match: re.Match[str]) -> bool:
    """A network (``10.0.0.0/8``), a path (``/fw/6.1.0.239/``), or a version number: by the words before it
    (``firmware 9.1.0.15``, ``3300 ICP 16.0.3.64``, ``from 9.1.0.15 to 10.2.1.59``)."""
    start, end = match.start(), match.end()
    if text.startswith("/", end) and text[end + 1 : end + 2].isdigit():
        return True
    if start > 0 and text[start - 1] == "/" and text[start - 2 : start] != "//":
        return True  # ShoreTel/10.1.3.46, http://host/fw/6.1.0.239/
    window = _clause_before(text, start, 30)
    words = [word.strip("(:,;'") for word in window.split()[-3:]]
    for word in reversed(words):
        if word in _HOST_WORDS:
            return False  # "the MiVB at 10.0.0.5", "the load balancer is 10.1.1.5": where, not which release
        if word in _PRODUCTS or _VERSION_TAIL.fullmatch(word) is not None:
            return True
    return _VERSION_WINDOW.search(window) is not None


# --- passwords and SIP credentials -----------------------------------------------------------------------

_KEY = (
    r"[A-Za-z0-9_.\-]{0,30}?(?:password|passwd|passwort|passwrd|passphrase|passcode|pass|pwd|secret)"
    r"[A-Za-z0-9_.\-]{0,30}"
)
_CONFIG_SECRET = re.compile(
    rf"(?i)(?<![\w-])[\"']?({_KEY})[\"']?\s*(?::=|=>|=|:)\s*(?:\"([^\"\n]{{1,128}})\"|'([^'\n]{{1,128}})'|([^\s\"'`<>,;]{{1,128}}))"
)
_PARAM_SECRET = re.compile(rf"(?i)name=[\"']({_KEY})[\"']\s+value=[\"']([^\"'\n]{{1,128}})[\"']")
_XML_SECRET = re.compile(rf"(?i)<({_KEY})>([^<\n]{{1,128}})</\1>")
_BARE_VALUE = "((?=[^\\s]*[0-9!@#$%^&*?+=~_.-]|[^\\s]+[A-Z])[^\\s\"'`\u201c\u201d]{3,64})"
_PROSE_SECRET = re.compile(
    r"(?i)\b(?:password|passwd|pwd|pw|passcode|passphrase|pass|secret)\b"
    r"(?:,?[ \t]+(?!(?:is|was|to|as|been)\b)[\w'./-]{1,20}){0,6}?"
    "\\s*(?:is|was|are|were|been|as|set to|to|:|=|->|\u2013|-)\\s+(?:(?:now|still|just|simply)\\s+)?"
    "(?:[\"'`\u201c\u2018]([^\"'`\u201d\u2019\\n]{3,64})[\"'`\u201d\u2019]|" + _BARE_VALUE + ")"
)
_PROSE_BARE = re.compile(
    r"(?i)(?<![A-Za-z0-9+/=])(?:password|passwd|pwd|pw|passcode|passphrase|secret)[ \t]+['\"`]?" + _BARE_VALUE
)
_LOGIN_PAIR = re.compile(
    r"(?i)\b(?:login|log(?:ged)? in (?:with|as)|sign(?:ed)? in (?:with|as)|credentials?|creds"
    r"|user(?:name)?\s*/\s*pass(?:word)?)\b"
    r"(?:[ \t]+(?!(?:is|are|was|were)\b)[\w'./-]{1,20}){0,6}?(?:[ \t]+(?:is|are|was|were)|[ \t]*:)?[ \t]+"
    r"[`'\"]?[\w.@-]{1,40}[`'\"]?[ \t]*(?:/|\\|:|[ \t]+and[ \t]+(?:pass(?:word)?[ \t]+)?)"
    r"\s*[`'\"]?((?=\S*[0-9!@#$%^&*?+=~_.-])[^\s\"'`]{3,64})"
)
_LOGIN_WORDS = _words("login", "log in", "logged in", "cred", "user", "sign in", "signed in")
_SCHEME_END = _words("://")
_USER_PASS = re.compile(r"user(?:name)?\s*/\s*pass")
_REGISTER = re.compile(  # in the lowered post, like the SIP URI's
    r"register(?<![\w]register)(?:\s*=>|\s+string:?)\s*[^:\s@/]{1,64}:([^@\s:/]{1,64})(?::[^@\s]{0,64})?@"
)
_URI_PASSWORD = re.compile(
    r"(?i)\b(sips?|[a-z][a-z0-9+.-]{1,15})://?([^\s:/@<>\"']{1,64}):([^\s@/<>\"']{1,64})@"
)
# Matched in the lowered post (offsets hold; the values are read from the post), so the pattern starts with
# its literal.
_SIP_URI_PASSWORD = re.compile(r"sip(?<![\w]sip)s?:([^\s:/@<>\"';]{1,64}):([^\s@<>\"';]{1,64})@")

_PLACEHOLDERS = frozenset(
    [
        "changeme",
        "change_me",
        "changeit",
        "password",
        "passw0rd?",
        "secret",
        "yourpassword",
        "your_password",
        "your-password",
        "mypassword",
        "my_password",
        "newpassword",
        "new_password",
        "oldpassword",
        "example",
        "sample",
        "placeholder",
        "redacted",
        "removed",
        "hidden",
        "none",
        "null",
        "nil",
        "empty",
        "blank",
        "n/a",
        "na",
        "tbd",
        "todo",
        "xxx",
        "xxxx",
        "xxxxx",
        "xxxxxx",
        "xxxxxxxx",
        "******",
        "********",
        "dummy",
        "foo",
        "bar",
        "foobar",
        "test1?",
        "default",
        "same",
        "whatever",
        "something",
        "yours",
        "mine",
        "hunter2?",
    ]
)
_COMMON_WORDS = frozenset(
    [
        "the",
        "a",
        "an",
        "and",
        "or",
        "not",
        "now",
        "set",
        "stored",
        "saved",
        "required",
        "needed",
        "correct",
        "incorrect",
        "wrong",
        "invalid",
        "valid",
        "expired",
        "changed",
        "reset",
        "blank",
        "empty",
        "same",
        "different",
        "case",
        "sensitive",
        "long",
        "short",
        "strong",
        "weak",
        "there",
        "here",
        "this",
        "that",
        "which",
        "what",
        "when",
        "where",
        "how",
        "why",
        "being",
        "been",
        "being",
        "also",
        "still",
        "only",
        "just",
        "field",
        "prompt",
        "policy",
        "complexity",
        "length",
        "history",
        "hash",
        "hashed",
        "encrypted",
        "protected",
        "missing",
        "rejected",
        "accepted",
        "working",
        "broken",
        "ok",
        "fine",
        "good",
        "bad",
        "right",
        "through",
        "into",
        "from",
        "with",
        "without",
        "for",
        "in",
        "on",
        "at",
        "of",
        "to",
        "by",
        "it",
        "its",
        "is",
        "was",
        "are",
        "were",
        "be",
    ]
)
_NOT_SECRET_PARTS = frozenset(
    (
    "policy", "length", "len", "expiry", "expires", "expiration", "expire", "min", "max", "minimum",
    "maximum", "hash", "hashed", "reset", "change", "changed", "age", "history", "complexity", "strength",
    "hint", "prompt", "field", "label", "file", "path", "type", "mode", "required", "enabled", "manager",
    "grace", "retry", "retries", "attempts", "attempt", "lockout", "days", "method", "methods", "rules",
    "rule", "format", "encoding", "algorithm", "algo", "salt", "iterations", "rotation", "interval",
    "timeout",
    )
)  # fmt: skip  # fmt: skip


def _not_a_secret_key(key: str) -> bool:
    """``password_policy``, ``PasswordMinLength``, ``pwd_expiry``: settings about secrets, not secrets."""
    parts = {p.lower() for p in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", key)}
    return bool(parts & _NOT_SECRET_PARTS)


_SIP_KEYS = re.compile(r"sip|auth|regist|reg_|peer|trunk|digest|sec_?pass|user_?pass|line")
_API_SECRET_KEYS = re.compile(
    r"client_?secret|api_?secret|secret_?key|access_?key|app_?secret|consumer_?secret"
)


_DOC_WORDS = re.compile(r"your[-_ ]|[-_]here$|placeholder|redacted|changeme|xxxx|insert[-_]|replace[-_]me")


def _placeholder(value: str) -> bool:
    lowered = value.lower().strip()
    if lowered in _PLACEHOLDERS or len(set(lowered)) <= 1:
        return True  # ********, xxxxxx, ......
    if re.fullmatch(
        r"[*•x.#_-]+|\$\{?[\w.-]+\}?|%[\w.-]+%|<[^>]*>|\{\{?[^}]*\}?\}|\[[^\]]*\]|\([^)]*\)", lowered
    ):
        return True  # ${VAR}, %VAR%, <password>, {{password}}, [redacted]
    if re.fullmatch(r"(?:true|false|yes|no|on|off|\d{1,2}|enabled|disabled|required|optional|none)", lowered):
        return True
    if lowered.endswith("example") or _DOC_WORDS.search(lowered):
        return True  # AKIAIOSFODNN7EXAMPLE, your-api-key-here: the documentation's keys
    return lowered.startswith(("$", "%", "<", "{{", "(", "[", "env:", "vault:", "secret:"))


def _password_like(value: str) -> bool:
    """A value in prose that looks like a password, not an English word."""
    if value.lower() in _COMMON_WORDS:
        return False
    has_digit = any(c.isdigit() for c in value)
    has_symbol = any(not c.isalnum() for c in value)
    mixed = any(c.isupper() for c in value[1:]) and any(c.islower() for c in value)
    return has_digit or has_symbol or mixed


def _trim(value: str) -> str:
    return value.rstrip(".,;:)]}") if len(value) > 4 else value


_SECRET_WORDS = _words("pass", "pwd", "secret")
_PROSE_WORDS = _words("pass", "pw", "secret")
_SIP_PHRASE = re.compile(r"\b(?:sip|trunk|registration|register|peer|line\d?)\b")
_SIP_HINTS = (
    "register =>", "register=>", "registrar", "registration", "outbound proxy", "realm", "auth name",
    "authentication name", "auth id", "auth user", "itsp", "pjsip", "type=friend", "type=peer",
    "type=endpoint", "type=auth", "auth_type=userpass", "type=registration", "sip trunk", "sip account",
    "<gateway", 'name="register"', 'name="realm"', "sip server", "sip user", "sip.conf", "[trunk",
    "sip line", "sip proxy",
)  # fmt: skip


def _sip_block(lowered: str, position: int) -> bool:
    """Whether the paragraph or config block around ``position`` is about a SIP registration."""
    start = lowered.rfind("\n\n", max(0, position - 400), position)
    end = lowered.find("\n\n", position, position + 300)
    block = lowered[start if start >= 0 else max(0, position - 400) : end if end >= 0 else position + 300]
    return any(hint in block for hint in _SIP_HINTS)


def _strong(value: str) -> bool:
    """A value that can only be a password: long enough, letters with digits or symbols."""
    letters = any(c.isalpha() for c in value)
    return len(value) >= 6 and letters and any(not c.isalpha() for c in value)


_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


def _anchored(
    pattern: re.Pattern[str], hits: Iterable[int], text: str, *, quotes: bool = True
) -> Iterator[re.Match[str]]:
    """``pattern`` matched only where a key word was found (walking back to the start of its token, and its
    opening quote when ``quotes``): scanning a 100 kB log for ``password=`` costs a substring search, not a
    regex attempt per position."""
    done = -1
    for hit in hits:
        start, floor = hit, max(0, hit - 31)
        while start > floor and text[start - 1] in _KEY_CHARS:
            start -= 1
        if quotes and start > 0 and text[start - 1] in "\"'<":
            start -= 1
        if start < done:
            continue
        match = pattern.match(text, start)
        if match is not None:
            done = match.end()
            yield match


def passwords(text: str, lines: Lines = EVERYWHERE) -> Iterator[Candidate]:
    lowered = lower(text)
    secret_words = "pass" in lowered or "pwd" in lowered or "secret" in lowered
    if secret_words:
        yield from _config_secrets(text, lines.hits(lowered, _SECRET_WORDS))
    if "pass" in lowered or "pw" in lowered or "secret" in lowered:
        hits = lines.hits(lowered, _PROSE_WORDS)
        for match in itertools.chain(
            _anchored(_PROSE_SECRET, hits, text), _anchored(_PROSE_BARE, hits, text)
        ):
            quoted = match.re is _PROSE_SECRET and match.group(1) is not None
            group = 1 if quoted else match.re.groups
            value = match.group(group) if quoted else _trim(match.group(group))
            if _placeholder(value) or not (quoted or _password_like(value)):
                continue
            if match.re is _PROSE_BARE and not _strong(value):
                continue  # "password Lakers2026!" needs no "is"; "password policy" is no password
            start = match.start(group)
            phrase = lowered[max(0, match.start() - 12) : start]
            sip = _SIP_PHRASE.search(phrase) is not None
            yield _secret(T.SIP_CREDENTIAL if sip else T.PASSWORD, start, start + len(value), value)
    if any(
        word in lowered for word in ("login", "log in", "logged in", "cred", "user", "sign in", "signed in")
    ):
        hits = [  # "user" starts a pair only as "user/pass" (logs are full of User-Agent and user=)
            hit
            for hit in lines.hits(lowered, _LOGIN_WORDS)
            if not lowered.startswith("user", hit) or _USER_PASS.match(lowered, hit)
        ]
        for match in _anchored(_LOGIN_PAIR, hits, text):
            value = _trim(match.group(1))
            if not _placeholder(value) and _password_like(value):
                yield _secret(T.PASSWORD, match.start(1), match.start(1) + len(value), value)
    if "@" in text:
        for match in _REGISTER.finditer(lowered):
            value = text[match.start(1) : match.end(1)]
            if not _placeholder(value):
                yield _secret(T.SIP_CREDENTIAL, match.start(1), match.end(1), value)
        for match in _SIP_URI_PASSWORD.finditer(lowered):
            value = text[match.start(2) : match.end(2)]
            if not _placeholder(value):
                yield _secret(T.SIP_CREDENTIAL, match.start(2), match.end(2), value)
        if "://" in text:
            for match in _anchored(_URI_PASSWORD, lines.hits(lowered, _SCHEME_END), text, quotes=False):
                scheme = match.group(1).lower()
                if scheme.startswith("sip") or _placeholder(match.group(3)):
                    continue
                yield _secret(T.PASSWORD, match.start(3), match.end(3), match.group(3))


def _config_secrets(text: str, hits: list[int]) -> Iterator[Candidate]:
    """``key = value`` lines, ``<param name=... value=...>`` and ``<password>...</password>``; a SIP
    credential when the key or the config block around it says so (``_sip_block``)."""
    lowered = lower(text)
    for match in _anchored(_CONFIG_SECRET, hits, text):
        key = match.group(1).lower()
        group = next(g for g in (2, 3, 4) if match.group(g) is not None)
        value = match.group(group) if group != 4 else _trim(match.group(4))
        if _not_a_secret_key(match.group(1)) or _placeholder(value) or len(value) < 3:
            continue
        if (
            group == 4
            and ":" in text[match.start(1) : match.start(group)]
            and not _config_shaped(text, match)
            and not _password_like(value)
        ):
            continue  # "Password: stored in the vault" read as prose
        start = match.start(group)
        line_start = lowered.rfind("\n", 0, match.start(1)) + 1
        prefix = lowered[max(line_start, match.start(1) - 16) : match.start(1)]
        sip = (
            _SIP_PHRASE.search(prefix) is not None or _sip_block(lowered, start)
        ) and not _NOT_SIP_KEYS.search(lowered[max(line_start, start - 60) : start])
        yield _secret(_kind_of(key, sip), start, start + len(value), value)
    if "value=" in lowered:
        for match in _PARAM_SECRET.finditer(text):
            key, value = match.group(1).lower(), match.group(2)
            if not _not_a_secret_key(match.group(1)) and not _placeholder(value):
                kind = _kind_of(key, _sip_block(lowered, match.start(2)))
                yield _secret(kind, match.start(2), match.end(2), value)
    if "</" in text:
        for match in _anchored(_XML_SECRET, hits, text):
            value = match.group(2)
            if not _not_a_secret_key(match.group(1)) and not _placeholder(value):
                yield _secret(_kind_of(match.group(1).lower(), False), match.start(2), match.end(2), value)


def _config_shaped(text: str, match: re.Match[str]) -> bool:
    """``key: value`` on a line of its own (YAML, a header, a listing), not a sentence."""
    line = _line_of(text, match.start())
    return line.strip().startswith(match.group(0).strip()[:3]) and len(line.split()) <= 4


_NOT_SIP_KEYS = re.compile(r"admin|web|gui|\bui\b|root|ldap|bind|db|mysql|sql|smtp|mail|wifi|ssh|vpn|bios")


def _kind_of(key: str, sip_block: bool) -> str:
    if _API_SECRET_KEYS.search(key):
        return T.API_KEY
    if _NOT_SIP_KEYS.search(key):
        return T.PASSWORD
    if _SIP_KEYS.search(key) or (sip_block and key in ("secret", "password", "pass", "passwd", "md5secret")):
        return T.SIP_CREDENTIAL
    return T.PASSWORD


def _secret(kind: str, start: int, end: int, value: str) -> Candidate:
    preview = f"{value[:4]}{DOT * 4}" if kind == T.API_KEY and len(value) >= 16 else DOT * 4
    return Candidate(kind, start, end, value, preview)


# --- keys and tokens -------------------------------------------------------------------------------------

_PEM = re.compile(
    r"-----BEGIN ((?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP |SSH2 )?PRIVATE KEY(?: BLOCK)?)-----"
)
# Each format starts with a literal, which the regex engine searches for as fast as a substring search; the
# one that does not (Stripe's) runs only when its literal is in the text.
_TOKEN_PATTERNS = [
    (f"token {n}", hints, re.compile(pattern))
    for n, (hints, pattern) in enumerate((
        ((), r"(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b"),  # AWS access key ids
        ((), r"gh[pousr]_[A-Za-z0-9]{36,255}\b"),  # GitHub
        ((), r"github_pat_[A-Za-z0-9_]{22,255}\b"),
        ((), r"glpat-[A-Za-z0-9_-]{20,64}\b"),  # GitLab
        ((), r"xox[abposre]-[A-Za-z0-9-]{10,250}\b"),  # Slack tokens
        ((), r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/-]{20,200}"),
        ((), r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d{5,30}/[A-Za-z0-9_-]{20,100}"),
        ((), r"https://[A-Za-z0-9.-]{1,100}\.webhook\.office\.com/webhook[A-Za-z0-9]*/[^\s)>\]\"']{20,400}"),
        ((), r"https://outlook\.office(?:365)?\.com/webhook/[^\s)>\]\"']{20,400}"),
        ((),
         r"https://[A-Za-z0-9.-]{1,100}\.logic\.azure\.com[^\s)>\]\"']{0,300}[?&]sig=[A-Za-z0-9%_-]{20,200}"),
        ((), r"AIza[0-9A-Za-z_-]{35}\b"),  # Google
        (("_live_", "_test_"), r"(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,99}\b"),  # Stripe
        ((), r"SG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{30,60}"),  # SendGrid
        ((), r"sk-(?:proj-|ant-)?[A-Za-z0-9_-]{32,200}\b"),  # OpenAI, Anthropic
        ((), r"npm_[A-Za-z0-9]{36}\b"),
        ((), r"pypi-AgE[A-Za-z0-9_-]{50,300}\b"),
        ((), r"SK[0-9a-f]{32}\b"),  # Twilio API key
        ((), r"key-[0-9a-zA-Z]{32}\b"),  # Mailgun
        ((), r"shpat_[a-fA-F0-9]{32}\b"),  # Shopify
        ((), r"dop_v1_[a-f0-9]{64}\b"),  # DigitalOcean
    ))
]  # fmt: skip
for _name, _hints, _pattern in _TOKEN_PATTERNS:
    # The pattern without its word boundaries and the upper bounds of its repetitions: it matches more.
    _locate(_name, re.sub(r"\{(\d+),\d+\}", r"{\1,}", _pattern.pattern.replace("\\b", "")))
_TOKEN_WORDS = _words("key", "token", "secret")
_BEARER_WORD = _words("bearer")
_KEYED_TOKEN = re.compile(
    r"(?i)(?<![\w-])[\"']?[\w-]{0,30}?((?:x-)?(?:api[_-]?key|apikey|api[_-]?token|access[_-]?token|auth[_-]?token"
    r"|id[_-]?token|refresh[_-]?token|private[_-]?token|app[_-]?key|aws_secret_access_key|api[_-]?secret"
    r"|client[_-]?secret|discourse[_-]api[_-]key|secret[_-]?key|token))[\"']?\s*(?::|=|=>)\s*[\"']?"
    r"([A-Za-z0-9_\-./+=]{16,2000})"
)
_BEARER_KEYS = ("access_token", "access-token", "accesstoken", "id_token", "refresh_token", "bearer")
_QUERY_TOKEN = re.compile(
    r"https?://[^\s?#\"'<>]{3,300}\?[^\s#\"'<>]{0,300}?\b(?:token|key|api_key|apikey|sig|signature|secret"
    r"|access_token|auth|code)=[A-Za-z0-9%_\-.]{16,300}[^\s\"'<>)\]]{0,300}"
)
_BEARER = re.compile(r"(?i)\bbearer\s+([A-Za-z0-9\-._~+/]{16,2000}=*)")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,2000}\.eyJ[A-Za-z0-9_-]{8,4000}\.[A-Za-z0-9_-]{8,2000}")


def _entropy(value: str) -> float:
    counts: dict[str, int] = {}
    for c in value:
        counts[c] = counts.get(c, 0) + 1
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def keys_and_tokens(text: str, lines: Lines = EVERYWHERE) -> Iterator[Candidate]:
    if "PRIVATE KEY" in text:
        done = 0
        for match in _PEM.finditer(text):
            if match.start() < done:
                continue  # inside the block found before
            end_marker = f"-----END {match.group(1)}-----"
            # The END line within 8 kB (the longest keys; encrypted ones have headers and a blank line);
            # without one, the body runs to the next blank line. Bounded: a post of BEGIN lines without END
            # must not make each of them search the rest of the post.
            end = text.find(end_marker, match.end(), match.end() + 8192 + len(end_marker))
            stop = end + len(end_marker) if end >= 0 else _pem_body_end(text, match.end())
            body = _pem_body(text[match.end() : end if end >= 0 else stop])
            if len(body) < 16:
                continue  # armour lines around nothing, "...", "<your key here>": no key
            done = stop
            preview = f"-----BEGIN {match.group(1)}----- {DOT * 4}"
            yield Candidate(T.PRIVATE_KEY, match.start(), stop, body[-24:], preview)
    for name, hints, pattern in _TOKEN_PATTERNS:
        if not hints or any(hint in text for hint in hints):
            for match in lines.finditer(name, pattern, text):
                value = match.group(0)
                if match.start() > 0 and (
                    text[match.start() - 1].isalnum() or text[match.start() - 1] == "_"
                ):
                    continue  # inside a longer token (the patterns start with their literal, for speed)
                if not value.endswith("EXAMPLE"):
                    yield Candidate(T.API_KEY, match.start(), match.end(), value, _token_preview(value))
    lowered = lower(text)
    if "key" in lowered or "token" in lowered or "secret" in lowered:
        for match in _anchored(_KEYED_TOKEN, lines.hits(lowered, _TOKEN_WORDS), text):
            key, value = match.group(1).lower(), match.group(2)
            if value.startswith("eyJ") or _placeholder(value) or _entropy(value) < 3.0:
                continue  # a JWT is found as one below
            if value.isalpha() or value.isdigit():
                continue
            if key.replace("-", "_") in _BEARER_KEYS:
                yield Candidate(T.BEARER_TOKEN, match.start(2), match.end(2), value, f"{value[:3]}{DOT * 4}")
            else:
                yield Candidate(T.API_KEY, match.start(2), match.end(2), value, _token_preview(value))
    if "?" in text and "http" in lowered:
        for match in _QUERY_TOKEN.finditer(text):
            url = match.group(0).rstrip(".,;")
            yield Candidate(T.API_KEY, match.start(), match.start() + len(url), url, _token_preview(url))
    if "bearer" in lowered:
        for match in _anchored(_BEARER, lines.hits(lowered, _BEARER_WORD), text, quotes=False):
            value = match.group(1)
            if not _placeholder(value) and _entropy(value) >= 3.0:
                yield Candidate(T.BEARER_TOKEN, match.start(1), match.end(1), value, f"{value[:3]}{DOT * 4}")
    if "eyJ" in text:
        for match in _JWT.finditer(text):
            yield Candidate(T.BEARER_TOKEN, match.start(), match.end(), match.group(0), f"eyJ{DOT * 4}")


_BASE64 = re.compile(r"[A-Za-z0-9+/=]+")


def _pem_body(block: str) -> str:
    """The base64 of a PEM block: its lines, without armour or header lines (``Proc-Type: ...``)."""
    lines = (line for line in block.splitlines() if not line.startswith("-----") and ":" not in line)
    return "".join(part for line in lines for part in _BASE64.findall(line))


def _pem_body_end(text: str, start: int) -> int:
    """Where a PEM body ends without its END line: the next blank line, or 8 kB on (the longest keys)."""
    limit = min(len(text), start + 8192)
    blank = text.find("\n\n", start, limit)
    return blank if blank >= 0 else limit


def _token_preview(value: str) -> str:
    if value.startswith("http"):
        host = re.match(r"https?://[^/?#]+", value)
        return f"{host.group(0) if host else 'https://'}/{DOT * 4}"
    return f"{value[:4]}{DOT * 4}"
