"""Random values for the scanner corpus: sensitive items (valid by their checksums) and their look-alikes.

Every function takes a ``random.Random`` and draws only from it, so a seed fixes the output.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import random
import string
from collections.abc import Sequence
from typing import TypeVar

import phonenumbers
from stdnum import iban as std_iban
from stdnum import luhn
from stdnum.ca import sin as ca_sin
from stdnum.us import rtn as us_rtn
from stdnum.us import ssn as us_ssn

T = TypeVar("T")

# ---------------------------------------------------------------------------------------------- people

FIRST_NAMES = [
    "John", "Karen", "Dave", "Priya", "Marc", "Sylvie", "Tom", "Linda", "Raj", "Heather", "Mike", "Jen",
    "Brian", "Nathalie", "Steve", "Carol", "Kevin", "Amanda", "Paul", "Denise", "Ahmed", "Olga", "Greg",
    "Tanya", "Luc", "Michelle", "Rob", "Angela", "Wei", "Fatima", "Darren", "Shannon", "Pierre", "Nicole",
    "Jason", "Monique", "Eric", "Lisa", "Hiroshi", "Bernadette", "Scott", "Julie", "Andre", "Kim",
]  # fmt: skip
LAST_NAMES = [
    "Smith", "MacDonald", "Tremblay", "Patel", "Gagnon", "Nguyen", "O'Brien", "Wilson", "Kowalski", "Roy",
    "Chen", "Fraser", "Singh", "Bouchard", "Campbell", "Murphy", "Leblanc", "Schmidt", "Hughes", "Martin",
    "Sullivan", "Ivanova", "Reid", "Kaur", "Bergeron", "Fischer", "Morrison", "Okafor", "Dubois", "Lam",
]  # fmt: skip
HANDLES = [
    "telecom_tom", "mivb_admin", "KarenM", "voip_dave", "sx200_survivor", "priya.p", "jmacd", "phoneguy42",
    "NetOpsNat", "sbc_wrangler", "ldubois", "hq_telco", "ccmgr_angela", "rreid", "ops-wei", "tanya_it",
    "ShoreTelGreg", "mbg_fan", "old3300", "Luc_G", "sylvie.t", "kevin_noc", "denise_h", "a.okafor",
]  # fmt: skip
COMPANIES = [
    ("Lakeshore Health", "lakeshorehealth.ca"), ("Northwind Logistics", "northwindlogistics.com"),
    ("Valley Credit Union", "valleycu.org"), ("Brant County Schools", "brantschools.ca"),
    ("Harbourview Hotels", "harbourviewhotels.com"), ("Cedar Ridge Insurance", "cedarridgeins.com"),
    ("Maritime Freight", "maritimefreight.ca"), ("Pinecrest Dental Group", "pinecrestdental.com"),
    ("Summit Property Mgmt", "summitpm.com"), ("City of Riverton", "riverton.ca"),
    ("Acme Manufacturing", "acmecorp.com"), ("Kanata Precision", "kanataprecision.ca"),
    ("Great Lakes Transit", "gltransit.org"), ("St. Brigid's Hospital", "stbrigids.org"),
    ("Prairie Ag Supply", "prairieag.ca"), ("Hudson Legal LLP", "hudsonlegal.com"),
    ("Bayside Community College", "baysidecc.edu"), ("Ottawa Valley Dairy", "ovdairy.ca"),
]  # fmt: skip
ISP_DOMAINS = [
    "gmail.com", "outlook.com", "hotmail.com", "yahoo.ca", "yahoo.com", "rogers.com", "bell.net",
    "sympatico.ca", "shaw.ca", "telus.net", "comcast.net", "verizon.net", "icloud.com", "videotron.ca",
]  # fmt: skip
ROLE_LOCALS = [
    "support", "helpdesk", "noc", "it-support", "telecom", "servicedesk", "voip", "sales", "billing",
    "info", "admin", "postmaster", "facilities", "reception", "hr", "accounts", "operations", "security",
]  # fmt: skip
ASSOCIATION_EMAILS = [
    "board@mug.org", "info@mitelusergroup.org", "events@mitelusergroup.org", "treasurer@mug.org",
    "membership@mitelusergroup.org", "webmaster@mug.org",
]  # fmt: skip
PROVIDERS = [
    ("Bell", "sip.bell-business.ca"), ("Rogers", "voip.rogersbusiness.ca"), ("Telus", "sbc.telus-sip.net"),
    ("Thinktel", "trunk.thinktel.ca"), ("Fibernetics", "sip.fibernetics.ca"),
    ("Flowroute", "us-east.flowroute.com"), ("voip.ms", "toronto2.voip.ms"),
    ("Bandwidth", "sbc.bandwidth.com"), ("Twilio", "acme.pstn.twilio.com"),
    ("Distributel", "sip.distributel.net"), ("Comcast Business", "sip.comcastbiz.net"),
]  # fmt: skip


def pick(rng: random.Random, seq: Sequence[T]) -> T:
    return seq[rng.randrange(len(seq))]


def person(rng: random.Random) -> tuple[str, str]:
    return pick(rng, FIRST_NAMES), pick(rng, LAST_NAMES)


def company(rng: random.Random) -> tuple[str, str]:
    return pick(rng, COMPANIES)


def _alnum(rng: random.Random, n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


# ---------------------------------------------------------------------------------------------- money


CARD_BRANDS = ["visa", "visa", "mastercard", "mastercard2", "amex", "discover", "discover65"]


def card_number(rng: random.Random, brand: str | None = None) -> str:
    """A Luhn-valid card number, digits only."""
    brand = brand or pick(rng, CARD_BRANDS)
    if brand == "visa":
        prefix, length = "4", 16
    elif brand == "mastercard":
        prefix, length = str(rng.randint(51, 55)), 16
    elif brand == "mastercard2":
        prefix, length = str(rng.randint(2221, 2720)), 16
    elif brand == "amex":
        prefix, length = pick(rng, ["34", "37"]), 15
    elif brand == "discover":
        prefix, length = "6011", 16
    else:
        prefix, length = "65", 16
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    return body + luhn.calc_check_digit(body)


def format_card(rng: random.Random, digits: str) -> str:
    style = rng.choice(["compact", "spaces", "spaces", "dashes"])
    if style == "compact":
        return digits
    sep = " " if style == "spaces" else "-"
    groups = (
        [digits[:4], digits[4:10], digits[10:]]
        if len(digits) == 15
        else [digits[i : i + 4] for i in range(0, len(digits), 4)]
    )
    return sep.join(groups)


def card(rng: random.Random) -> str:
    return format_card(rng, card_number(rng))


def card_expiry(rng: random.Random) -> str:
    return f"{rng.randint(1, 12):02d}/{rng.randint(25, 30)}"


def ssn(rng: random.Random) -> str:
    while True:
        area = rng.randint(1, 899)
        if area == 666:
            continue
        value = f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"
        if us_ssn.is_valid(value):
            return value


def sin(rng: random.Random) -> str:
    while True:
        body = pick(rng, "12345679") + "".join(rng.choice(string.digits) for _ in range(7))
        number = body + luhn.calc_check_digit(body)
        if ca_sin.is_valid(number):
            sep = rng.choice([" ", " ", "-", ""])
            return sep.join([number[:3], number[3:6], number[6:]])


_IBAN_BBAN = {
    "DE": lambda r: _digits(r, 18),
    "GB": lambda r: pick(r, ["NWBK", "BARC", "LOYD", "HBUK", "MIDL"]) + _digits(r, 14),
    "NL": lambda r: pick(r, ["ABNA", "INGB", "RABO"]) + _digits(r, 10),
    "FR": lambda r: _digits(r, 23),
    "CH": lambda r: _digits(r, 17),
    "BE": lambda r: _digits(r, 12),
    "IE": lambda r: pick(r, ["AIBK", "BOFI"]) + _digits(r, 14),
    "ES": lambda r: _digits(r, 20),
    "IT": lambda r: r.choice(string.ascii_uppercase) + _digits(r, 22),
    "AT": lambda r: _digits(r, 16),
}


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def iban(rng: random.Random) -> str:
    countries = sorted(_IBAN_BBAN)
    while True:
        country = pick(rng, countries)
        bban = _IBAN_BBAN[country](rng)
        check = std_iban.calc_check_digits(country + "00" + bban)
        number = country + check + bban
        if std_iban.is_valid(number):
            return std_iban.format(number) if rng.random() < 0.65 else number


def routing_number(rng: random.Random) -> str:
    while True:
        prefix = pick(rng, [f"{i:02d}" for i in [*range(1, 13), *range(21, 33)]])
        body = prefix + _digits(rng, 6)
        number = body + us_rtn.calc_check_digit(body)
        if us_rtn.is_valid(number):
            return number


def bank_account(rng: random.Random) -> str:
    n = rng.choice([7, 8, 9, 10, 10, 12, 12, 14, 17])
    return str(rng.randint(1, 9)) + _digits(rng, n - 1)


def not_luhn(digits: str) -> str:
    """The same digits with the last changed so that the Luhn check fails."""
    if not luhn.is_valid(digits):
        return digits
    return digits[:-1] + str((int(digits[-1]) + 1) % 10)


# ---------------------------------------------------------------------------------------------- contacts


def email(rng: random.Random, first: str | None = None, last: str | None = None) -> str:
    if first is None or last is None:
        first, last = person(rng)
    f = first.lower()
    ln = last.lower().replace("'", "")
    local = rng.choice(
        [
            f"{f[0]}{ln}",
            f"{f}.{ln}",
            f"{f}_{ln}",
            f"{ln}{f[0]}",
            f"{f[0]}{ln}{rng.randint(2, 99)}",
            f"{f[0]}.{ln}",
        ]
    )
    domain = company(rng)[1] if rng.random() < 0.6 else pick(rng, ISP_DOMAINS)
    return f"{local}@{domain}"


def role_email(rng: random.Random) -> str:
    return f"{pick(rng, ROLE_LOCALS)}@{company(rng)[1]}"


def example_email(rng: random.Random) -> str:
    first, last = person(rng)
    domain = pick(rng, ["example.com", "example.org", "example.net", "pbx.example.com", "corp.example.com"])
    return f"{first.lower()}.{last.lower().replace(chr(39), '')}@{domain}"


NANP_AREAS = [
    "613", "343", "416", "647", "437", "905", "289", "519", "226", "705", "604", "778", "403", "587", "780",
    "514", "438", "450", "819", "902", "506", "204", "306", "212", "646", "718", "312", "773", "415", "408",
    "617", "202", "214", "469", "303", "206", "305", "404", "512", "602", "702", "713", "919",
]  # fmt: skip
_INTL = [
    ("GB", "44", lambda r: "20" + pick(r, ["7", "8", "3"]) + _digits(r, 7)),
    ("GB", "44", lambda r: "161" + _digits(r, 7)),
    ("DE", "49", lambda r: "30" + str(r.randint(2, 9)) + _digits(r, 6)),
    ("DE", "49", lambda r: "89" + str(r.randint(2, 9)) + _digits(r, 6)),
    ("FR", "33", lambda r: "1" + str(r.randint(4, 5)) + _digits(r, 7)),
    ("AU", "61", lambda r: "2" + str(r.randint(8, 9)) + _digits(r, 7)),
    ("NL", "31", lambda r: "20" + str(r.randint(5, 7)) + _digits(r, 6)),
]


def _nanp_digits(rng: random.Random) -> str:
    while True:
        area = pick(rng, NANP_AREAS)
        exch = rng.randint(200, 999)
        if exch == 555 or exch % 100 == 11:
            continue
        number = f"{area}{exch}{rng.randint(0, 9999):04d}"
        if phonenumbers.is_valid_number(phonenumbers.parse("+1" + number)):
            return number


def phone(rng: random.Random, international: bool | None = None) -> str:
    """A phone number valid for ``phonenumbers``, never a 555 number, written as people write them."""
    if international is None:
        international = rng.random() < 0.15
    if international:
        while True:
            _region, cc, national = pick(rng, _INTL)
            parsed = phonenumbers.parse(f"+{cc}{national(rng)}")
            if phonenumbers.is_valid_number(parsed):
                return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    n = _nanp_digits(rng)
    a, b, c = n[:3], n[3:6], n[6:]
    return rng.choice(
        [
            f"({a}) {b}-{c}",
            f"({a}) {b}-{c}",
            f"{a}-{b}-{c}",
            f"{a}-{b}-{c}",
            f"{a}.{b}.{c}",
            f"+1 {a} {b} {c}",
            f"+1 ({a}) {b}-{c}",
            f"1-{a}-{b}-{c}",
            f"+1-{a}-{b}-{c}",
            f"{a} {b} {c}",
        ]
    )


def phone_digits(rng: random.Random) -> str:
    """A North American number as phone configs and CDRs write it: 16137224410 or +16137224410."""
    return rng.choice(["1", "+1", ""]) + _nanp_digits(rng)


def fictional_phone(rng: random.Random) -> str:
    a = pick(rng, NANP_AREAS)
    c = f"01{rng.randint(0, 99):02d}"
    return rng.choice([f"({a}) 555-{c}", f"{a}-555-{c}", f"{a}.555.{c}", f"+1 {a} 555 {c}", f"555-{c}"])


def fictional_e164(rng: random.Random) -> str:
    return f"+1{pick(rng, NANP_AREAS)}555{rng.randint(100, 199):04d}"


# ---------------------------------------------------------------------------------------------- dates

MONTHS = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
    "November", "December",
]  # fmt: skip


def date_parts(rng: random.Random, y0: int, y1: int) -> tuple[int, int, int]:
    return rng.randint(y0, y1), rng.randint(1, 12), rng.randint(1, 28)


def format_date(rng: random.Random, y: int, m: int, d: int) -> str:
    return rng.choice(
        [
            f"{y}-{m:02d}-{d:02d}",
            f"{MONTHS[m - 1]} {d}, {y}",
            f"{d} {MONTHS[m - 1]} {y}",
            f"{m:02d}/{d:02d}/{y}",
            f"{d:02d}/{m:02d}/{y}",
            f"{MONTHS[m - 1][:3]} {d}, {y}",
            f"{d}-{MONTHS[m - 1][:3]}-{y}",
        ]
    )


def birth_date(rng: random.Random) -> str:
    return format_date(rng, *date_parts(rng, 1947, 2003))


def recent_date(rng: random.Random) -> str:
    return format_date(rng, *date_parts(rng, 2015, 2025))


def timestamp(rng: random.Random) -> str:
    y, m, d = date_parts(rng, 2022, 2025)
    return f"{y}-{m:02d}-{d:02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"


# ---------------------------------------------------------------------------------------------- addresses

STREETS = [
    "Maple", "King", "Queen", "Bank", "Elgin", "Yonge", "Main", "Oak", "Cedar", "Lakeshore", "Innovation",
    "Hazeldean", "Carling", "Industrial", "Riverside", "Church", "Wellington", "Dundas", "Bloor",
    "Sherbrooke", "Portage", "Granville", "Jasper", "Elm", "Pine", "Highland", "Victoria", "Albert",
    "Terry Fox", "Merivale", "Evergreen", "Market", "Commerce", "Meadowlark", "Birchwood", "Fairview",
    "Colonel By", "Water",
]  # fmt: skip
STREET_TYPES = [
    "Street", "St", "St.", "Avenue", "Ave", "Road", "Rd", "Drive", "Dr", "Boulevard", "Blvd", "Crescent",
    "Way", "Lane", "Court", "Parkway", "Terrace", "Place", "Circle",
]  # fmt: skip
CA_CITIES = [
    ("Ottawa", "ON", "K"), ("Kanata", "ON", "K"), ("Toronto", "ON", "M"), ("Mississauga", "ON", "L"),
    ("Hamilton", "ON", "L"), ("London", "ON", "N"), ("Sudbury", "ON", "P"), ("Montreal", "QC", "H"),
    ("Gatineau", "QC", "J"), ("Quebec City", "QC", "G"), ("Vancouver", "BC", "V"), ("Calgary", "AB", "T"),
    ("Edmonton", "AB", "T"), ("Winnipeg", "MB", "R"), ("Halifax", "NS", "B"), ("Regina", "SK", "S"),
    ("Moncton", "NB", "E"),
]  # fmt: skip
US_CITIES = [
    ("Springfield", "IL", "627"), ("Columbus", "OH", "432"), ("Austin", "TX", "787"), ("Denver", "CO", "802"),
    ("Portland", "OR", "972"), ("Albany", "NY", "122"), ("Tampa", "FL", "336"), ("Madison", "WI", "537"),
    ("Buffalo", "NY", "142"), ("Raleigh", "NC", "276"), ("Phoenix", "AZ", "850"), ("Boston", "MA", "021"),
]  # fmt: skip
_PC_LETTERS = "ABCEGHJKLMNPRSTVWXYZ"


def postal_code(rng: random.Random, first: str) -> str:
    r = rng
    return (
        f"{first}{r.randint(0, 9)}{r.choice(_PC_LETTERS)} "
        f"{r.randint(0, 9)}{r.choice(_PC_LETTERS)}{r.randint(0, 9)}"
    )


def street(rng: random.Random) -> str:
    number = rng.choice([rng.randint(1, 99), rng.randint(100, 999), rng.randint(1000, 9999)])
    name = f"{pick(rng, STREETS)} {pick(rng, STREET_TYPES)}"
    if rng.random() < 0.2:
        name += " " + pick(rng, ["W", "E", "N", "S", "West", "East", "NW", "SE"])
    return f"{number} {name}"


def address(rng: random.Random, multiline: bool = False) -> str:
    s = street(rng)
    if rng.random() < 0.3:
        s += ", " + rng.choice(
            [
                f"Suite {rng.randint(1, 30)}00",
                f"Unit {rng.randint(1, 40)}",
                f"Apt {rng.randint(1, 20)}B",
                f"#{rng.randint(101, 2404)}",
                f"Floor {rng.randint(2, 12)}",
            ]
        )
    shape = rng.random()
    if shape < 0.25:
        return s
    sep = "\n" if multiline else ", "
    if rng.random() < 0.65:
        city, prov, letter = pick(rng, CA_CITIES)
        tail = f"{city}, {prov}"
        if shape > 0.35:
            tail += " " + postal_code(rng, letter)
    else:
        city, state, zip3 = pick(rng, US_CITIES)
        tail = f"{city}, {state}"
        if shape > 0.35:
            tail += f" {zip3}{rng.randint(1, 99):02d}"
            if rng.random() < 0.2:
                tail += f"-{rng.randint(1, 9999):04d}"
    return s + sep + tail


# ---------------------------------------------------------------------------------------------- network

DOC_NETS = ["192.0.2.", "198.51.100.", "203.0.113."]
RESOLVERS = ["8.8.8.8", "8.8.4.4", "1.1.1.1", "1.0.0.1", "9.9.9.9", "208.67.222.222"]
NETMASKS = [
    "255.255.255.0",
    "255.255.0.0",
    "255.255.255.128",
    "255.255.252.0",
    "255.255.255.252",
    "0.0.0.255",
]
_PUBLIC_FIRST = [
    24,
    38,
    45,
    50,
    64,
    66,
    67,
    69,
    70,
    72,
    74,
    76,
    96,
    99,
    104,
    107,
    142,
    154,
    162,
    173,
    184,
    199,
    205,
    206,
    207,
    208,
    209,
    216,
]


def private_ip(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.4:
        return f"10.{rng.randint(0, 254)}.{rng.randint(0, 254)}.{rng.randint(2, 254)}"
    if kind < 0.6:
        return f"172.{rng.randint(16, 31)}.{rng.randint(0, 254)}.{rng.randint(2, 254)}"
    return f"192.168.{rng.randint(0, 254)}.{rng.randint(2, 254)}"


def public_ip(rng: random.Random) -> str:
    while True:
        value = (
            f"{pick(rng, _PUBLIC_FIRST)}.{rng.randint(1, 254)}.{rng.randint(0, 254)}.{rng.randint(2, 254)}"
        )
        addr = ipaddress.ip_address(value)
        if addr.is_global and value not in RESOLVERS:
            return value


def ip(rng: random.Random) -> str:
    return private_ip(rng) if rng.random() < 0.7 else public_ip(rng)


def doc_ip(rng: random.Random) -> str:
    if rng.random() < 0.1:
        return f"2001:db8::{rng.randint(1, 0xFFFF):x}"
    return f"{pick(rng, DOC_NETS)}{rng.randint(1, 254)}"


def doc_ipv4(rng: random.Random) -> str:
    return f"{pick(rng, DOC_NETS)}{rng.randint(1, 254)}"


def mac(rng: random.Random) -> str:
    octets = [0x00, 0x08, 0x5D] + [rng.randint(0, 255) for _ in range(3)]
    style = rng.random()
    if style < 0.4:
        return ":".join(f"{o:02X}" for o in octets)
    if style < 0.6:
        return "-".join(f"{o:02x}" for o in octets)
    if style < 0.8:
        h = "".join(f"{o:02x}" for o in octets)
        return f"{h[0:4]}.{h[4:8]}.{h[8:12]}"
    return "".join(f"{o:02X}" for o in octets)


# ---------------------------------------------------------------------------------------------- telephony


def extension(rng: random.Random) -> str:
    return str(rng.choice([rng.randint(1000, 7999), rng.randint(2000, 4999), rng.randint(10000, 59999)]))


def version(rng: random.Random, product: str | None = None) -> str:
    """A release number that fits the product; four-part ones are valid IPv4 strings on purpose."""
    r = rng
    sp = f" SP{r.randint(1, 3)}" + (f" PR{r.randint(1, 3)}" if r.random() < 0.4 else "")
    family = {
        "MiVB": "mivb", "MiVoice Business": "mivb", "MCD": "mcd", "3300 ICP": "mcd",
        "MiVoice Connect": "connect", "MiCollab": "micollab", "MBG": "mbg", "MiContact Center": "micc",
        "MiCC": "micc",
    }.get(product or "", "any")  # fmt: skip
    if family == "mivb":
        return r.choice(
            [
                f"{r.randint(9, 10)}.{r.randint(0, 4)}{sp}",
                f"{r.randint(9, 10)}.{r.randint(0, 4)}.{r.randint(0, 3)}.{r.randint(10, 99)}",
            ]
        )
    if family == "mcd":
        return r.choice(
            [
                f"{r.randint(4, 6)}.{r.randint(0, 2)}{sp}",
                f"{r.randint(15, 20)}.{r.randint(0, 3)}.{r.randint(0, 9)}.{r.randint(10, 99)}",
            ]
        )
    if family == "connect":
        return r.choice(
            [
                f"19.{r.randint(1, 3)}{sp}",
                f"22.{r.randint(10, 30)}.{r.randint(1000, 9999)}.0",
                f"R{r.randint(1, 2)}.{r.randint(0, 9)}{sp}",
            ]
        )
    if family == "micollab":
        return r.choice(
            [
                f"9.{r.randint(0, 8)}{sp}",
                f"9.{r.randint(0, 8)}.{r.randint(0, 3)}.{r.randint(10, 210)}",
                f"10.{r.randint(0, 1)}.{r.randint(0, 3)}.{r.randint(10, 99)}",
            ]
        )
    if family == "mbg":
        return r.choice(
            [
                f"11.{r.randint(0, 5)}.{r.randint(0, 3)}.{r.randint(10, 250)}",
                f"12.{r.randint(0, 1)}.{r.randint(0, 3)}.{r.randint(10, 99)}",
            ]
        )
    if family == "micc":
        return r.choice(
            [
                f"9.{r.randint(0, 9)}{sp}",
                f"{r.randint(9, 10)}.{r.randint(0, 2)}.{r.randint(0, 3)}.{r.randint(0, 40)}",
            ]
        )
    return r.choice(
        [
            f"{r.randint(9, 10)}.{r.randint(0, 4)}.{r.randint(0, 3)}.{r.randint(10, 99)}",
            f"{r.randint(9, 10)}.{r.randint(0, 3)}{sp}",
            f"v{r.randint(5, 6)}.{r.randint(0, 3)}.{r.randint(0, 3)}.{r.randint(1, 2100)}",
            f"{r.randint(7, 9)}.{r.randint(0, 9)}.{r.randint(0, 9)}.{r.randint(10, 999)}",
            f"R{r.randint(1, 3)}.{r.randint(0, 9)}.{r.randint(0, 9)}",
        ]
    )


PRODUCTS = [
    "MiVB", "MiVoice Business", "MCD", "3300 ICP", "MiVoice Connect", "MiCollab", "MBG", "MiContact Center",
    "MiCC", "MiVoice 5000", "MiVoice Office 400", "MiCloud Flex", "NuPoint", "MiVoice Call Recording",
]  # fmt: skip
PHONES = [
    "6930",
    "6940",
    "6920",
    "6910",
    "6970",
    "5330e",
    "5340e",
    "5320e",
    "6873i",
    "6867i",
    "IP480",
    "6865i",
]


def sip_uri(rng: random.Random) -> str:
    host = pick(rng, ["pbx.example.com", "example.com", "sip.example.net", "mivb.example.org", "192.0.2.10"])
    return rng.choice([f"sip:{extension(rng)}@{host}", f"sips:{extension(rng)}@{host}:5061", f"sip:{host}"])


def order_number(rng: random.Random) -> str:
    style = rng.random()
    if style < 0.35:
        return not_luhn(pick(rng, ["4", "5", "3", "6", "1", "7"]) + _digits(rng, 15))
    if style < 0.55:
        return "SO-" + _digits(rng, 7)
    if style < 0.75:
        return str(rng.randint(40, 49)) + _digits(rng, 8)
    if style < 0.9:
        return "PO " + _digits(rng, 6)
    return "00" + _digits(rng, 10)


def rma(rng: random.Random) -> str:
    return rng.choice(["RMA ", "RMA# ", "RMA-", "case "]) + _digits(rng, rng.choice([6, 7, 8]))


def dial_plan(rng: random.Random) -> str:
    return pick(
        rng,
        [
            "9,1NXXNXXXXXX",
            "9011+",
            "1XXX",
            "9NXXXXXX",
            "91NXXNXXXXXX",
            "2XXXX",
            "9,011X.",
            "_9NXXNXXXXXX",
            "_91NXXNXXXXXX",
            "911",
            "9911",
            "_X.",
            "8XXX",
            "61X",
        ],
    )


def placeholder_secret(rng: random.Random) -> str:
    return pick(
        rng,
        [
            "********",
            "${SIP_SECRET}",
            "<password>",
            "xxxxxxxx",
            "REDACTED",
            "<your secret here>",
            "$ADMIN_PASSWORD",
            "{{ vault_sip_secret }}",
            "•••••••",
            "[removed]",
            "%PASSWORD%",
            "<redacted>",
            "****",
        ],
    )


def sha1(rng: random.Random) -> str:
    return _hex(rng, 40)


def sha256(rng: random.Random) -> str:
    return _hex(rng, 64)


def uuid(rng: random.Random) -> str:
    h = _hex(rng, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{pick(rng, '89ab')}{h[17:20]}-{h[20:]}"


def call_id(rng: random.Random, host: str) -> str:
    return rng.choice(
        [f"{_hex(rng, 32)}@{host}", uuid(rng), f"{_alnum(rng, 22)}..", f"{_hex(rng, 16)}-{_hex(rng, 8)}"]
    )


def branch(rng: random.Random) -> str:
    return "z9hG4bK" + rng.choice([_hex(rng, 8), _alnum(rng, 12), f"-524287-1---{_hex(rng, 16)}"])


def tag(rng: random.Random) -> str:
    return rng.choice([_hex(rng, 8), _alnum(rng, 10), str(rng.randint(10**8, 10**10))])


# ---------------------------------------------------------------------------------------------- secrets

_WORDS = [
    "Welcome", "Summer", "Winter", "Spring", "Autumn", "Hockey", "Maple", "Falcon", "Tiger", "Orange",
    "Harbour", "Phoenix", "Copper", "Lakers", "Blue", "Monday", "Ottawa", "Mitel", "Voice", "Trunk", "Dragon",
    "Coffee",
]  # fmt: skip
_SYMBOLS = "!#$%*+-=?@_"


def password(rng: random.Random, xml_safe: bool = False) -> str:
    kind = rng.random()
    if kind < 0.3:
        number = rng.choice([rng.randint(1, 99), rng.randint(2015, 2026)])
        value = f"{pick(rng, _WORDS)}{number}{pick(rng, '!#$@*?')}"
    elif kind < 0.45:
        word = pick(rng, _WORDS)
        leet = word.translate(str.maketrans({"o": "0", "a": "@", "e": "3", "i": "1", "s": "5"}))
        value = f"{leet}{pick(rng, _SYMBOLS)}{rng.randint(1, 9999)}"
    elif kind < 0.55:
        value = f"{pick(rng, ['Mitel', 'Admin', 'Pbx', 'Voip'])}#{rng.randint(1000, 9999)}"
    elif kind < 0.65:
        value = "-".join(pick(rng, _WORDS).lower() for _ in range(3)) + str(rng.randint(10, 99))
    elif kind < 0.72 and not xml_safe:
        value = f"Tr{rng.randint(0, 9)}ub{rng.randint(0, 9)}dor&{rng.randint(1, 9)}"
    else:
        n = rng.randint(10, 18)
        chars = [
            rng.choice(string.ascii_uppercase),
            rng.choice(string.ascii_lowercase),
            rng.choice(string.digits),
            rng.choice(_SYMBOLS),
        ] + [rng.choice(string.ascii_letters + string.digits + _SYMBOLS) for _ in range(n - 4)]
        rng.shuffle(chars)
        value = "".join(chars)
    if value[0] in "$%*=+-_":  # would read as a variable or a mask: "$ADMIN_PW", "%PASSWORD%", "****"
        value = rng.choice(string.ascii_letters) + value[1:]
    return value


def sip_secret(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.5:
        return _alnum(rng, rng.randint(10, 20))
    if kind < 0.65:
        return _digits(rng, rng.randint(8, 12))
    if kind < 0.85:
        return f"{pick(rng, ['Pa55word', 'SipTrunk', 'Reg1ster', 'Voip', 'Line'])}{rng.randint(1, 9999)}"
    return _alnum(rng, 8) + _alnum(rng, 8, string.digits + "abcdef")


# PEM bodies start with the DER prefix their type really has, so they look like the real thing.
PEM_KINDS = {
    "RSA PRIVATE KEY": ("MIIEpAIBAAKCAQEA", 1190, 64),
    "PRIVATE KEY": ("MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ", 1210, 64),
    "EC PRIVATE KEY": ("MHcCAQEEI", 160, 64),
    "ENCRYPTED PRIVATE KEY": ("MIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQwwHAQI", 1290, 64),
    "OPENSSH PRIVATE KEY": ("b3BlbnNzaC1rZXktdjEAAAAA", 1660, 70),
    "DSA PRIVATE KEY": ("MIIBuwIBAAKBgQD", 640, 64),
}
PUBLIC_PEM_KINDS = {
    "CERTIFICATE": ("MIIDdzCCAl+gAwIBAgIU", 1260, 64),
    "CERTIFICATE REQUEST": ("MIICvDCCAaQCAQAwdzELMAkGA1UEBhMCQ0Ex", 960, 64),
    "PUBLIC KEY": ("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA", 392, 64),
}


def _pem(rng: random.Random, label: str, spec: tuple[str, int, int]) -> str:
    prefix, length, width = spec
    raw = rng.randbytes(int((length - len(prefix)) * 0.75) + rng.randint(-6, 6))
    body = prefix + base64.b64encode(raw).decode()
    lines = [body[i : i + width] for i in range(0, len(body), width)]
    extra = ""
    if label == "RSA PRIVATE KEY" and rng.random() < 0.2:
        extra = f"Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,{_hex(rng, 32).upper()}\n\n"
    return f"-----BEGIN {label}-----\n{extra}" + "\n".join(lines) + f"\n-----END {label}-----"


def private_key(rng: random.Random) -> str:
    label = pick(
        rng,
        [
            "RSA PRIVATE KEY",
            "RSA PRIVATE KEY",
            "PRIVATE KEY",
            "EC PRIVATE KEY",
            "ENCRYPTED PRIVATE KEY",
            "OPENSSH PRIVATE KEY",
            "DSA PRIVATE KEY",
        ],
    )
    return _pem(rng, label, PEM_KINDS[label])


def public_pem(rng: random.Random) -> str:
    label = pick(rng, ["CERTIFICATE", "CERTIFICATE", "CERTIFICATE REQUEST", "PUBLIC KEY"])
    return _pem(rng, label, PUBLIC_PEM_KINDS[label])


def ssh_public_key(rng: random.Random) -> str:
    body = "AAAAB3NzaC1yc2EAAAADAQABAAABAQ" + base64.b64encode(rng.randbytes(256)).decode().rstrip("=")
    first, _ = person(rng)
    return f"ssh-rsa {body} {first.lower()}@{pick(rng, ['mgmt01', 'jumpbox', 'laptop', 'noc-ws3'])}"


_B32 = string.ascii_uppercase + "234567"
_URLSAFE = string.ascii_letters + string.digits + "-_"

API_KEY_KINDS = [
    "aws", "github", "slack_bot", "slack_webhook", "google", "stripe", "sendgrid", "teams", "discord",
    "hex40", "twilio",
]  # fmt: skip


def api_key(rng: random.Random, kind: str | None = None) -> str:
    kind = kind or pick(rng, API_KEY_KINDS)
    if kind == "aws":
        return pick(rng, ["AKIA", "AKIA", "ASIA"]) + "".join(rng.choice(_B32) for _ in range(16))
    if kind == "aws_secret":
        return _alnum(rng, 40, string.ascii_letters + string.digits + "+/")
    if kind == "github":
        return "ghp_" + _alnum(rng, 36)
    if kind == "slack_bot":
        return f"xoxb-{_digits(rng, 12)}-{_digits(rng, 13)}-{_alnum(rng, 24)}"
    if kind == "slack_webhook":
        t = "T" + "".join(
            rng.choice(string.ascii_uppercase + string.digits) for _ in range(rng.choice([8, 10]))
        )
        b = "B" + "".join(
            rng.choice(string.ascii_uppercase + string.digits) for _ in range(rng.choice([8, 10]))
        )
        return f"https://hooks.slack.com/services/{t}/{b}/{_alnum(rng, 24)}"
    if kind == "google":
        return "AIza" + _alnum(rng, 35, _URLSAFE)
    if kind == "stripe":
        return pick(rng, ["sk_live_", "sk_live_", "rk_live_"]) + _alnum(rng, 24)
    if kind == "sendgrid":
        return f"SG.{_alnum(rng, 22, _URLSAFE)}.{_alnum(rng, 43, _URLSAFE)}"
    if kind == "teams":
        tenant = company(rng)[1].split(".")[0]
        return (
            f"https://{tenant}.webhook.office.com/webhookb2/{uuid(rng)}@{uuid(rng)}"
            f"/IncomingWebhook/{_hex(rng, 32)}/{uuid(rng)}"
        )
    if kind == "discord":
        return f"https://discord.com/api/webhooks/{_digits(rng, 19)}/{_alnum(rng, 68, _URLSAFE)}"
    if kind == "twilio":
        return _hex(rng, 32)
    return _hex(rng, 40)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def jwt(rng: random.Random) -> str:
    header = {"alg": pick(rng, ["HS256", "RS256", "ES256"]), "typ": "JWT"}
    if header["alg"] != "HS256":
        header["kid"] = _alnum(rng, 12)
    first, last = person(rng)
    payload = {
        "sub": pick(
            rng,
            [
                uuid(rng),
                f"{first.lower()}.{last.lower().replace(chr(39), '')}",
                str(rng.randint(1000, 99999)),
            ],
        ),
        "iss": pick(
            rng,
            [
                "https://login.microsoftonline.com/" + uuid(rng) + "/v2.0",
                "cloudlink",
                "micollab-api",
                "https://auth.mitel.io",
            ],
        ),
        "iat": 1_700_000_000 + rng.randint(0, 60_000_000),
    }
    payload["exp"] = payload["iat"] + pick(rng, [3600, 7200, 86400])
    if rng.random() < 0.5:
        payload["scope"] = pick(rng, ["users.read calls.write", "admin", "openid profile", "cc.reports"])
    h = _b64url(json.dumps(header, separators=(",", ":")).encode())
    p = _b64url(json.dumps(payload, separators=(",", ":")).encode())
    sig_len = {"HS256": 32, "RS256": 256, "ES256": 64}[header["alg"]]
    return f"{h}.{p}.{_b64url(rng.randbytes(sig_len))}"


def bearer_token(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.55:
        return jwt(rng)
    if kind < 0.75:
        return "ya29.a0" + _alnum(rng, rng.randint(120, 160), _URLSAFE)
    if kind < 0.9:
        return _alnum(rng, rng.randint(32, 64))
    return hashlib.sha256(rng.randbytes(16)).hexdigest()
