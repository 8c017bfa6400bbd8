"""Generate the labelled corpus for evaluating the sensitive-information scanner.

    python bench/corpus/generate.py --seed 7 --posts 2000 --out corpus.jsonl
    python bench/corpus/generate.py --check                       # generate, verify, report counts
    python bench/corpus/generate.py --check --in bench/corpus/handwritten.jsonl

Importable as ``bench.corpus.generate``: ``generate(seed, posts) -> list[dict]``. Each post is
``{"id", "raw", "labels": [{"type", "start", "end"}], "kind": "planted" | "clean"}``; the label rules are in
``bench/corpus/README.md``. The output depends only on ``seed`` and ``posts``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from string import Formatter
from typing import TextIO

try:
    from bench.corpus import checks
    from bench.corpus import values as V
except ModuleNotFoundError:  # run as a script: python bench/corpus/generate.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from bench.corpus import checks
    from bench.corpus import values as V

pick = V.pick
MAX_ITEMS = 3  # distinct sensitive values in a planted post


@dataclass(frozen=True)
class S:
    """A sensitive value: labelled when the author writes it, plain text inside a quotation."""

    type: str
    value: str


Field = str | S

# ---------------------------------------------------------------------------------------------- the post


class Post:
    """A post under construction: text, labels, and the per-post context (who writes, about what)."""

    def __init__(self, gen: Generator, planted: bool) -> None:
        self.gen = gen
        self.rng = gen.rng
        self.planted = planted
        self._parts: list[str] = []
        self._len = 0
        self.labels: list[dict] = []
        self.quoting = 0
        r = self.rng
        self.first, self.last = V.person(r)
        self.company, self.domain = V.company(r)
        self.provider, self.provider_host = pick(r, V.PROVIDERS)
        self.product = pick(r, V.PRODUCTS)
        self.phone_model = pick(r, V.PHONES)
        self.handle = pick(r, V.HANDLES)
        self._used: set[str] = set()
        self.clock = datetime(
            r.randint(2022, 2025),
            r.randint(1, 12),
            r.randint(1, 28),
            r.randint(0, 23),
            r.randint(0, 59),
            tzinfo=UTC,
        )

    # -- writing

    def add(self, text: str) -> None:
        if text:
            self._parts.append(text)
            self._len += len(text)

    def put(self, item: S) -> None:
        if self.quoting:
            self.add(item.value)
            return
        self.labels.append({"type": item.type, "start": self._len, "end": self._len + len(item.value)})
        self.add(item.value)

    def w(self, template: str, **fields: Field) -> None:
        """Write a template; ``{name}`` fields come from ``fields`` or from the look-alike generators."""
        for literal, name, _spec, _conv in Formatter().parse(template):
            self.add(literal)
            if name is None:
                continue
            value = fields[name] if name in fields else self.field(name)
            if isinstance(value, S):
                self.put(value)
            else:
                self.add(value)

    def s(self, template: str, **fields: Field) -> str:
        """Render a template to plain text (no labels): for quotations and look-alikes."""
        with self.capture() as out:
            self.quoting += 1
            self.w(template, **fields)
            self.quoting -= 1
        return out[0]

    @contextmanager
    def capture(self) -> Iterator[list[str]]:
        saved = (self._parts, self._len, self.labels)
        self._parts, self._len, self.labels = [], 0, []
        out: list[str] = []
        try:
            yield out
        finally:
            assert not self.labels, "labels inside a capture"
            out.append("".join(self._parts))
            self._parts, self._len, self.labels = saved

    def text(self) -> str:
        return "".join(self._parts)

    def trim(self) -> None:
        """Drop trailing newlines (a block ends without one)."""
        while self._parts and self._parts[-1].endswith("\n"):
            last = self._parts[-1].rstrip("\n")
            self._len -= len(self._parts[-1]) - len(last)
            self._parts[-1] = last
            if not last:
                self._parts.pop()

    @property
    def length(self) -> int:
        return self._len

    def field(self, name: str) -> str:
        if name not in FIELDS:
            name = name.rstrip("0123456789")
        return FIELDS[name](self)

    # -- sensitive values (sometimes reused across posts, as in real life)

    def value(self, type_: str, make: Callable[[], str], ok: Callable[[str], bool] | None = None) -> S:
        pool = self.gen.pools.setdefault(type_, [])
        usable = [v for v in pool if ok is None or ok(v)]
        if usable and self.rng.random() < 0.12:
            return S(type_, pick(self.rng, usable))
        v = make()
        pool.append(v)
        return S(type_, v)

    def card(self) -> S:
        return self.value("CREDIT_CARD", lambda: V.card(self.rng))

    def ssn(self) -> S:
        return self.value("US_SSN", lambda: V.ssn(self.rng))

    def sin(self) -> S:
        return self.value("CA_SIN", lambda: V.sin(self.rng))

    def iban(self) -> S:
        return self.value("IBAN", lambda: V.iban(self.rng))

    def rtn(self) -> S:
        return self.value("ABA_ROUTING", lambda: V.routing_number(self.rng))

    def acct(self) -> S:
        return self.value("BANK_ACCOUNT", lambda: V.bank_account(self.rng))

    def email(self, own: bool = False) -> S:
        if own:
            return S("EMAIL", V.email(self.rng, self.first, self.last))
        return self.value("EMAIL", lambda: V.email(self.rng))

    def phone(self, international: bool | None = None) -> S:
        return self.value("PHONE", lambda: V.phone(self.rng, international))

    def dob(self) -> S:
        return self.value("DOB", lambda: V.birth_date(self.rng))

    def address(self, multiline: bool = False) -> S:
        return self.value(
            "ADDRESS", lambda: V.address(self.rng, multiline), lambda v: multiline or "\n" not in v
        )

    def ip(self, private: bool | None = None) -> S:
        if private is None:
            return self.value("IP_ADDRESS", lambda: V.ip(self.rng))
        if private:
            return S("IP_ADDRESS", V.private_ip(self.rng))
        return S("IP_ADDRESS", V.public_ip(self.rng))

    def password(self, xml_safe: bool = False) -> S:
        return self.value(
            "PASSWORD", lambda: V.password(self.rng, xml_safe), lambda v: not xml_safe or "&" not in v
        )

    def sip(self) -> S:
        return self.value("SIP_CREDENTIAL", lambda: V.sip_secret(self.rng))

    def key(self) -> S:
        return S("PRIVATE_KEY", V.private_key(self.rng))

    def api(self, kind: str | None = None) -> S:
        return S("API_KEY", V.api_key(self.rng, kind))

    def bearer(self, jwt: bool = False) -> S:
        return S("BEARER_TOKEN", V.jwt(self.rng) if jwt else V.bearer_token(self.rng))

    # -- blocks

    def fence(self, lang: str, body: Callable[[], None]) -> None:
        self.add(f"```{lang}\n")
        body()
        self.trim()
        self.add("\n```")

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def one(self, options: list[str]) -> str:
        """A random option, avoiding one this post already used when possible."""
        choice = pick(self.rng, options)
        for _ in range(6):
            if choice not in self._used:
                break
            choice = pick(self.rng, options)
        self._used.add(choice)
        return choice

    def tick(self) -> str:
        """The next timestamp of a log being written: logs go forward in time."""
        self.clock += timedelta(seconds=self.rng.choice([0, 0, 1, 1, 2, 3, 5, 8, 13, 30, 61, 240]))
        return f"{self.clock:%Y-%m-%d %H:%M:%S}"


# ------------------------------------------------------------------------------------- look-alike fields


def _ts(p: Post) -> str:
    return V.timestamp(p.rng)


def _arid(p: Post) -> str:
    r = p.rng
    return "-".join("".join(r.choice("0123456789ABCDEF") for _ in range(4)) for _ in range(4))


def _serial(p: Post) -> str:
    r = p.rng
    return (
        r.choice(["A", "B", "M"]) + "".join(r.choice("0123456789") for _ in range(9)) + r.choice(["", "-01"])
    )


def _other_provider(p: Post) -> str:
    while True:
        name = pick(p.rng, V.PROVIDERS)[0]
        if name != p.provider:
            return name


FIELDS: dict[str, Callable[[Post], str]] = {
    "product": lambda p: p.product,
    "version": lambda p: V.version(p.rng, p.product),
    "fw": lambda p: (
        f"{p.rng.randint(5, 6)}.{p.rng.randint(0, 3)}.{p.rng.randint(0, 3)}.{p.rng.randint(10, 2100)}"
    ),
    "phone_model": lambda p: p.phone_model,
    "ext": lambda p: V.extension(p.rng),
    "mac": lambda p: V.mac(p.rng),
    "doc_ip": lambda p: V.doc_ipv4(p.rng),
    "doc_ip6": lambda p: V.doc_ip(p.rng),
    "netmask": lambda p: pick(p.rng, V.NETMASKS),
    "resolver": lambda p: pick(p.rng, V.RESOLVERS),
    "n": lambda p: str(p.rng.randint(2, 60)),
    "big": lambda p: str(p.rng.randint(80, 1400)),
    "n4": lambda p: str(p.rng.randint(1000, 9999)),
    "date": lambda p: V.recent_date(p.rng),
    "old_date": lambda p: V.format_date(p.rng, *V.date_parts(p.rng, 1978, 1999)),
    "year": lambda p: str(p.rng.randint(1985, 2012)),
    "ts": _ts,
    "lts": lambda p: p.tick(),
    "order": lambda p: V.order_number(p.rng),
    "rma": lambda p: V.rma(p.rng),
    "dialplan": lambda p: V.dial_plan(p.rng),
    "sip_uri": lambda p: V.sip_uri(p.rng),
    "company": lambda p: p.company,
    "domain": lambda p: p.domain,
    "provider": lambda p: p.provider,
    "provider_host": lambda p: p.provider_host,
    "other_provider": _other_provider,
    "role_email": lambda p: V.role_email(p.rng),
    "example_email": lambda p: V.example_email(p.rng),
    "assoc_email": lambda p: pick(p.rng, V.ASSOCIATION_EMAILS),
    "fict_phone": lambda p: V.fictional_phone(p.rng),
    "e164": lambda p: V.fictional_e164(p.rng),
    "sha1": lambda p: V.sha1(p.rng),
    "sha256": lambda p: V.sha256(p.rng),
    "uuid": lambda p: V.uuid(p.rng),
    "arid": _arid,
    "serial": _serial,
    "placeholder": lambda p: V.placeholder_secret(p.rng),
    "first": lambda p: p.first,
    "last": lambda p: p.last,
    "someone": lambda p: V.pick(p.rng, V.FIRST_NAMES),
    "handle": lambda p: pick(p.rng, V.HANDLES),
    "city": lambda p: pick(p.rng, V.CA_CITIES + V.US_CITIES)[0],
    "pct": lambda p: str(p.rng.randint(5, 99)),
    "port": lambda p: pick(p.rng, ["5060", "5061", "5080", "6060", "443", "8443", "4443", "3998", "6800"]),
    "exp": lambda p: V.card_expiry(p.rng),
    "card_last4": lambda p: str(p.rng.randint(1000, 9999)),
    "case": lambda p: V.rma(p.rng),
    "minutes": lambda p: str(p.rng.choice([2, 5, 10, 15, 20, 30, 45, 60])),
}

# ---------------------------------------------------------------------------------------------- prose

GREETINGS = [
    "Hi all,", "Hello everyone,", "Morning folks,", "Hey all -", "Hi MUG,", "Good afternoon,", "Hi,",
    "Hello,", "Quick one:", "Hey everyone,", "Bonjour / hi all,", "Greetings from {city},", "Hi team,",
    "All,",
]  # fmt: skip
CLOSINGS = [
    "Thanks in advance.", "Any ideas appreciated!", "TIA", "Cheers,", "Thanks!", "Appreciate any pointers.",
    "Thanks for reading this far.", "Will report back.", "Let me know if you need more logs.", "Thx",
    "Much appreciated, this forum has saved me more than once.", "Regards,", "Thanks all.",
    "Happy to share the full config if it helps.", "Merci!", "Cheers from {city}",
]  # fmt: skip
REPLY_OPENERS = [
    "We hit exactly this on {product} {version} last spring.", "Same here, following.",
    "Had this a few weeks ago, it turned out to be the firewall.",
    "+1, we're seeing it too since the upgrade.",
    "Not sure it's the same issue but this is what fixed it for us.",
    "Late reply but in case it helps someone:", "Check the SIP ALG first. Nine times out of ten.",
    "Thanks, that was it!", "Marking this solved - details below for the next person.",
    "Good question, I've wondered the same.", "I'd open a ticket with the partner, but in the meantime:",
    "Following up on my own post:",
]  # fmt: skip

TOPICS: dict[str, dict[str, list[str]]] = {
    "trunk": {
        "open": [
            "Our SIP trunk to {provider} stopped registering after the weekend. {product} {version}, nothing "
            "changed on our side (famous last words).",
            "Has anyone seen {provider} return 403 Forbidden on REGISTER? The trunk was fine for two years "
            "and now "
            "it flaps every {minutes} minutes.",
            "Setting up a new SIP trunk from {provider} on {product} {version} and I can't get past 401 "
            "Unauthorized.",
            "Trunk registers fine but inbound calls get a fast busy. Outbound works. Provider is {provider}.",
            "After moving the MBG behind a new firewall our {provider} trunk shows 'Registration failed - "
            "408 "
            "Request Timeout'.",
            "One-way audio on {provider} trunk calls since the ISP swap: the outside caller can't hear us.",
            "Is anyone running {provider} SIP trunks with the MBG as the SBC? Looking for the settings that "
            "work.",
            "our trunk keep dropping registration every night around 2am, {provider} say is our side. "
            "{product} "
            "{version}. anyone know this?",
        ],
        "detail": [
            "The SIP peer profile uses the pilot {e164} as the registration user and the trunk group has {n} "
            "channels.",
            "Firewall forwards UDP 5060 and RTP 16384-32767 to the MBG at {doc_ip}.",
            "SIP ALG is disabled on the router (triple checked, it's a {city} ISP special).",
            "Provider support says they see our REGISTER but the digest response doesn't match.",
            "OPTIONS pings every 60 s come back 200 OK, so the path is fine.",
            "Our DIDs are {fict_phone} to {fict_phone2}, all pointing at the auto attendant ({ext}).",
            "NAT keepalive is set to 30 s and the registration expiry to 3600.",
            "The ticket with {provider} is {case}; they want a pcap, which I'm working on.",
            "Outbound CLID comes out as the pilot instead of the user's DID.",
            "DNS for {provider_host} resolves fine from the MBG (using {resolver} as a test).",
        ],
        "ask": [
            "Any ideas where to look next?",
            "What am I missing?",
            "Has anyone got a working profile for {provider} they could share (minus the secrets obviously)?",
            "Is there a way to get more detail out of the MBG logs?",
            "Should I be using TCP instead of UDP?",
        ],
    },
    "routing": {
        "open": [
            "Trying to route one DID to a hunt group ({ext}) after hours on {product} {version}.",
            "ARS question: we want 911 to go out the local PRI and everything else over SIP. Digit "
            "modification "
            "is confusing me.",
            "Calls to toll-free numbers fail with 'number not in service' since we changed the dial plan to "
            "{dialplan}.",
            "Need to block 900/976 calls. What's the cleanest way in ARS?",
            "The receptionist console ({phone_model}) isn't getting the overflow from ring group {ext}.",
            "How do you all handle the 10-digit local dialing change? We still have {dialplan} in ARS.",
            "Call forward always to external numbers stopped working for everyone on {product} {version}.",
        ],
        "detail": [
            "Route list 3 points at trunk group 2 (SIP) with 1 digit absorbed and '{dialplan}' as the "
            "leading "
            "digits.",
            "The outbound CLID is the main number {fict_phone}.",
            "Call rerouting first alternative is voicemail {ext}, second is the operator ({ext2}).",
            "We dial {dialplan} for long distance and {dialplan2} for international.",
            "COR group {n} is what the lobby phones use; they should only reach extensions and 911.",
            "Time-of-day switch is set for 08:00-17:00 Mon-Fri, holidays from the calendar.",
            "Hunt group {ext} is circular with {n} members, no-answer timer 15 s.",
        ],
        "ask": [
            "Is there a better way than a second route list?",
            "Anyone have a screenshot of a working setup?",
            "Does the order of the ARS digit entries matter?",
            "What would you do?",
        ],
    },
    "voicemail": {
        "open": [
            "NuPoint voicemail-to-email stopped working after the Exchange Online migration.",
            "Users on the {phone_model}s get 'mailbox full' even after deleting everything.",
            "MiCollab unified messaging can't reach the new SMTP relay.",
            "How do I reset voicemail passcodes in bulk? We have {big} mailboxes and half the users forgot "
            "theirs.",
            "MWI lights stuck on for extension {ext} and a few others since last week.",
            "Auto attendant greeting plays twice on {product} {version}. Weird one.",
        ],
        "detail": [
            "I reset the password on the service account and now nothing gets delivered.",
            "The SMTP relay is {doc_ip} on port 587 with STARTTLS.",
            "Our password policy requires 8 digits minimum, which everyone hates.",
            "The logs show '550 5.7.1 Unable to relay' for messages to {example_email}.",
            "Message waiting resync from the maintenance console didn't help.",
            "We have {n} ports on the voicemail and the peak is around 10 am.",
            "Voicemail pilot is {ext}; users dial it or press the message key.",
        ],
        "ask": [
            "Anyone done this with Exchange Online and OAuth?",
            "Is there a CLI command for that?",
            "Known bug or config?",
            "Thoughts?",
        ],
    },
    "firmware": {
        "open": [
            "Planning the upgrade from {product} {version} to {version2} next month. Any gotchas?",
            "{phone_model} phones stuck in a boot loop after pushing firmware {fw}.",
            "{phone_model}s won't pick up the new firmware from the HTTP config server.",
            "Anybody running firmware {fw} on the 6930s yet? The release notes mention a fix for the BLF "
            "issue.",
            "MiCollab upgrade to release {version} failed at 87% with 'database migration error'.",
            "Heads up: firmware {fw} breaks the headset button on the {phone_model} for us.",
        ],
        "detail": [
            "The config server is http://{doc_ip}/mitel/ and the phones do pull aastra.cfg.",
            "MAC {mac} shows up in the DHCP leases with option 66 pointing at {doc_ip}.",
            "The checksum matches what the download page lists (sha256 {sha256}).",
            "Rolled the test phone back to firmware {fw} and it works again.",
            "We have {big} phones on site, mostly {phone_model}s, some 5330e.",
            "Backup taken on {date}, {product} release {version}.",
            "Upgrade window is Saturday {date}, 22:00 to 02:00.",
        ],
        "ask": [
            "Is it safe to skip a release?",
            "Should I open a case with Mitel first?",
            "Anyone else?",
            "How long did yours take?",
        ],
    },
    "licence": {
        "open": [
            "AMC sync failed: 'License violation - too many devices'. We only have {big} phones!",
            "Renewing SWA for our {product} and the partner quoted something crazy. What are others paying?",
            "ARID mismatch after moving the vMiVB to new hosts.",
            "Our MiCollab licences show 'Expired' but SWA is paid until {date}.",
            "Can you move user licences between two {product} systems in the same cluster?",
        ],
        "detail": [
            "Order number {order} for the renewal; the partner says it's processed.",
            "The ARID is {arid} if that matters.",
            "AMC status page says last successful sync {ts}.",
            "We have {n} IP user licences spare according to the license report.",
            "Partner quote {order} came in at ${big} per user per year.",
        ],
        "ask": ["Has anyone fought this with Mitel?", "Is that normal pricing?", "Any workaround?"],
    },
    "cert": {
        "open": [
            "The Let's Encrypt cert on the MBG expired and auto-renew didn't kick in.",
            "Importing a wildcard cert into MiCollab: it keeps saying the private key doesn't match.",
            "Teleworker phones show 'certificate not trusted' after we replaced the cert.",
            "What's the right way to chain an intermediate CA on the MBG {version}?",
        ],
        "detail": [
            "The cert is for teleworker.{domain}, issued {date}, expires in {n} days.",
            "Phones are {phone_model}s on firmware {fw}.",
            "openssl s_client shows the chain fine from outside.",
            "I generated the CSR on the MBG itself, so the key never left the box.",
        ],
        "ask": ["What's the trick?", "Anyone done this recently?", "Do the phones cache the old cert?"],
    },
    "integration": {
        "open": [
            "I wrote a small Python script that posts missed-call alerts to our Teams channel.",
            "Anyone integrated CloudLink with Slack for voicemail notifications?",
            "Pulling CDRs off the SMDR port into a database; parsing is a pain.",
            "Our backup script pushes the nightly {product} backup to S3.",
            "Trying the MiCollab REST API for the first time and I get 401 on everything.",
        ],
        "detail": [
            "The API returns 401 unless I refresh the token every hour.",
            "It runs from cron on a Linux VM at {doc_ip}.",
            "SMDR is on TCP port 1752 and gives fixed-width records.",
            "Uses requests, nothing fancy. Python 3.11.",
            "Token lifetime is 3600 s per the docs.",
        ],
        "ask": ["Is there a better way?", "Anyone have sample code?", "What am I doing wrong?"],
    },
    "cc": {
        "open": [
            "MiCC IVR payment flow: our auditor says card numbers end up in the IVR logs. Where does IVR "
            "Routing "
            "write collected digits?",
            "The screen pop to our CRM isn't passing the caller's account info.",
            "Agents show 'Unavailable' in the MiCC client although they're logged in on {phone_model}s.",
            "Real-time reports in MiContact Center {version} freeze every afternoon.",
            "Does anyone record agent screens along with calls in MiCC?",
        ],
        "detail": [
            "The CRM URL template is https://crm.example.com/lookup?ani=<ANI>&dnis=<DNIS>.",
            "{n} agents, three queues ({ext}, {ext2}, {ext3}).",
            "The SQL Server is on {doc_ip}, MiCC server on the same subnet.",
            "Service level target is 80/20, we're at {pct}%.",
        ],
        "ask": ["Anyone seen this?", "Is there a setting for that?", "Ideas?"],
    },
    "porting": {
        "open": [
            "Porting our numbers from {provider} to {other_provider}. The LOA got rejected twice.",
            "The new carrier wants a personal guarantee from me as the account holder for the SIP trunks. "
            "Normal?",
            "Port date was {date} and half the DIDs still ring at the old carrier.",
            "What do carriers need for a port these days? {provider} is asking for a lot.",
        ],
        "detail": [
            "Rejected because the service address didn't match the customer service record.",
            "DIDs in the port: {fict_phone} through {fict_phone2}.",
            "The PON is {order}, FOC date still pending.",
            "We kept the main number on the PRI until the port completes.",
        ],
        "ask": ["Is that normal?", "How long did yours take?", "Any tips?"],
    },
    "e911": {
        "open": [
            "Setting up dispatchable location for RAY BAUM'S Act on {product}. How granular are you going?",
            "Our 911 test call from the remote site showed the head office location.",
            "How are you handling emergency location for teleworkers on the MBG?",
            "Kari's Law notifications: what do you send and to whom?",
        ],
        "detail": [
            "Notifications go to {role_email} and the security desk at {ext}.",
            "We did a 933 test call and it read back the wrong location.",
            "Each floor is its own ERL, {n} in total.",
            "The provider's E911 portal is a separate login from the trunk portal.",
        ],
        "ask": ["How did you solve it?", "Is per-floor enough?", "Anyone audited yet?"],
    },
    "membership": {
        "open": [
            "Is the early-bird price for the MUG conference still on? The registration form kept timing out.",
            "Question for the board: can the association invoice us instead of taking a card?",
            "The vendor in Europe wants a wire transfer for the refurbished 5330e phones.",
            "Who do I talk to about our membership renewal? {assoc_email} hasn't replied yet.",
            "Reimbursement for the chapter meeting pizza: how do I send the receipts?",
        ],
        "detail": [
            "Our AP department needs an invoice with the association's address.",
            "The invoice number is INV-{n4}.",
            "There are {n} of us coming from {company}.",
            "Happy to pay by cheque if that's easier.",
        ],
        "ask": ["Who should I send this to?", "Thanks!", "Is that OK?"],
    },
    "rma": {
        "open": [
            "Third {phone_model} this month with a dead display. The RMA process with our partner is slow.",
            "The power supply on our {product} controller died; the partner is sending a replacement.",
            "Is anyone else seeing the 6940 handset cords fail?",
        ],
        "detail": [
            "Serial {serial}, MAC {mac}.",
            "The partner's {rma}, shipped {date}.",
            "Mitel case {case} is attached to it.",
        ],
        "ask": ["Normal failure rate?", "How long do your RMAs take?", "Anyone?"],
    },
}
TOPIC_TYPES = {
    "trunk": ["SIP_CREDENTIAL", "IP_ADDRESS", "PASSWORD", "PHONE", "EMAIL"],
    "routing": ["IP_ADDRESS", "PHONE", "EMAIL", "PASSWORD"],
    "voicemail": ["PASSWORD", "EMAIL", "PHONE", "IP_ADDRESS", "API_KEY"],
    "firmware": ["IP_ADDRESS", "SIP_CREDENTIAL", "PASSWORD", "PRIVATE_KEY"],
    "licence": ["EMAIL", "PHONE", "CREDIT_CARD", "ADDRESS", "PASSWORD"],
    "cert": ["PRIVATE_KEY", "IP_ADDRESS", "PASSWORD"],
    "integration": ["API_KEY", "BEARER_TOKEN", "PASSWORD", "IP_ADDRESS", "PRIVATE_KEY"],
    "cc": ["CREDIT_CARD", "US_SSN", "CA_SIN", "DOB", "PHONE", "ADDRESS", "PASSWORD", "BEARER_TOKEN", "EMAIL"],
    "porting": ["US_SSN", "CA_SIN", "DOB", "ADDRESS", "PHONE", "EMAIL", "BANK_ACCOUNT"],
    "e911": ["ADDRESS", "IP_ADDRESS", "PHONE", "API_KEY"],
    "membership": ["CREDIT_CARD", "IBAN", "ABA_ROUTING", "BANK_ACCOUNT", "EMAIL", "PHONE", "ADDRESS"],
    "rma": ["ADDRESS", "PHONE", "EMAIL"],
}
GENERIC_TYPES = ["EMAIL", "PHONE", "ADDRESS", "IP_ADDRESS"]


def paragraph(p: Post, topic: str, reply: bool) -> None:
    t = TOPICS[topic]
    parts = [p.one(REPLY_OPENERS)] if reply else []
    parts.append(p.one(t["open"]))
    for _ in range(p.rng.choice([0, 1, 1, 2])):
        parts.append(p.one(t["detail"]))
    if not reply or p.chance(0.3):
        parts.append(p.one(t["ask"]))
    p.w(" ".join(parts))


def detail(p: Post, topic: str) -> None:
    t = TOPICS[topic]
    n = p.rng.choice([1, 2, 2, 3])
    p.w(" ".join(p.one(t["detail"]) for _ in range(n)))


# ---------------------------------------------------------------------------------------------- look-alikes

LOOKALIKE_SENTENCES = [
    "FYI the default admin password on the 6900 series is 22222 per the admin guide. Change it before the "
    "phones go live.",
    "The default is changeme; change it on first login.",
    "Password policy on our side is 90 days, 12 characters minimum, no reuse of the last 5.",
    "I reset the password for the web admin account and it still says locked out.",
    "Put `secret=${{SIP_SECRET}}` in the template and fill it from the vault, never commit the real one.",
    "Our ticket with Mitel is {case} and the partner's order # is {order}.",
    "For reference, DNS is {resolver} and the subnet mask is {netmask}.",
    "For membership questions write to {assoc_email}; our own helpdesk is {role_email}.",
    "The example in the admin guide uses {example_email} and {sip_uri}.",
    "Ring group pilot is {ext}, overflow to {ext2} after 4 rings.",
    "Phone MAC is {mac} (the switch shows it as {mac2}).",
    "Installed {date}, last reboot {ts}.",
    "That SX-2000 was installed {old_date} and it's still taking calls.",
    "Test number {fict_phone} is safe to dial for demos.",
    "Our old order {order} had the same part number.",
    "The lab range is {doc_ip}/24 with the gateway at {doc_ip2}; real addresses removed.",
    "IPv6 is {doc_ip6} in the lab only.",
    "We're on {product} {version}, the other site on release {version2}.",
    "Firmware {fw} on the {phone_model}s, firmware {fw2} on the older ones.",
    "Dial plan: {dialplan} for outside lines, {dialplan2} internal.",
    "Replace <password> with your own value, obviously.",
    "`password=********` in the export; the system masks it.",
    "The admin guide says the password must be changed from the default at first login.",
    "Forgot my password again, had to use the recovery console.",
    "Contact {someone} at the helpdesk ({role_email}, {fict_phone}).",
    "Case {case} opened {date}.",
    "Anyone at the {city} chapter meeting on {date}? Slides are on the MUG site.",
    "The firmware file's SHA-1 is {sha1}.",
    "Call-ID {uuid} if anyone at {provider} is reading.",
    "Netmask {netmask}, wildcard 0.0.0.255 in the ACL.",
    "Pinging {resolver} works from the MBG, so DNS isn't the problem.",
    "Our main line in the training manual is {fict_phone}, it's a demo number.",
    "The SIP header showed `P-Asserted-Identity: <sip:{e164}@pbx.example.com>`.",
    "RMA is {rma}.",
    "Voicemail passcode reset to the default from the admin portal (users must change it at first login).",
    "Board contact for sponsorship is {assoc_email}.",
    "The setting is `sip_secret: <set-me>` in the template.",
    "Mask was {netmask}, should have been 255.255.255.128.",
    "Last year's conference was {date}; photos are on the MUG site.",
]


def lookalike_sentence(p: Post) -> str:
    return p.s(p.one(LOOKALIKE_SENTENCES))


def lookalike_paragraph(p: Post) -> None:
    n = p.rng.choice([1, 2, 2, 3])
    p.add(" ".join(lookalike_sentence(p) for _ in range(n)))


def lookalike_list(p: Post) -> None:
    items = [
        "Extension: {ext}",
        "MAC: {mac}",
        "Firmware: {fw}",
        "System: {product} {version}",
        "Order: {order}",
        "Gateway: {doc_ip}",
        "Subnet mask: {netmask}",
        "DNS: {resolver}",
        "Pilot: {e164}",
        "Helpdesk: {role_email}",
        "Dial plan: {dialplan}",
        "Serial: {serial}",
        "Installed: {date}",
        "Case: {case}",
        "SIP URI: {sip_uri}",
        "Password: (ask me in DM)",
        "Password: {placeholder}",
        "Voicemail pilot: {ext}",
        "Demo line: {fict_phone}",
    ]
    chosen = p.rng.sample(items, p.rng.randint(3, 6))
    bullet = p.one(["- ", "* ", "1. "])
    lines = []
    for i, item in enumerate(chosen, 1):
        b = f"{i}. " if bullet == "1. " else bullet
        lines.append(b + p.s(item))
    p.add("\n".join(lines))


def clean_config(p: Post) -> None:
    """A config paste with only look-alikes: masked secrets, documentation addresses, versions."""
    kind = p.rng.randint(0, 6)
    if kind == 0:
        body = (
            "[{provider}-trunk]\ntype=peer\nhost={provider_host}\ndefaultuser={e164}\nsecret={placeholder}\n"
            "fromdomain={provider_host}\ninsecure=port,invite\ncontext=from-trunk\ndisallow=all\nallow=ulaw\n"
            "qualify=yes\nnat=force_rport,comedia"
        )
        p.fence(p.one(["ini", "", "text"]), lambda: p.w(body))
    elif kind == 1:
        body = (
            "sip line1 auth name: {ext}\nsip line1 password: {placeholder}\nsip line1 user name: {ext}\n"
            "sip line1 display name: Reception\nsip line1 proxy ip: {doc_ip}\nsip line1 proxy port: 5060\n"
            "sip line1 registrar ip: {doc_ip}\ntftp server: {doc_ip}\ndownload protocol: HTTP\n"
            "firmware server: http://{doc_ip}/fw/{fw}/\nadmin password: {placeholder}\ntime server1: "
            "{doc_ip2}\n"
            "dns1: {resolver}"
        )
        p.fence("", lambda: p.w(body))
    elif kind == 2:
        body = (
            "interface GigabitEthernet0/1\n description VOICE VLAN\n ip address {doc_ip} {netmask}\n"
            " ip helper-address {doc_ip2}\n!\naccess-list 110 permit udp any host {doc_ip3} eq 5060\n"
            "access-list 110 permit udp any {doc_ip4} 0.0.0.255 range 16384 32767\n!\nip name-server "
            "{resolver}\n"
            "no ip sip alg\nntp server {doc_ip5}"
        )
        p.fence(p.one(["", "text", "cisco"]), lambda: p.w(body))
    elif kind == 3:
        body = (
            '{{\n  "server": "https://{doc_ip}:{port}/api/v1",\n  "username": "svc_reports",\n'
            '  "password": "{placeholder}",\n  "timeout": 30,\n  "notify": "{role_email}",\n'
            '  "version": "{fw}"\n}}'
        )
        p.fence("json", lambda: p.w(body))
    elif kind == 4:
        body = (
            "smtp:\n  host: smtp.example.com\n  port: 587\n  starttls: true\n  user: voicemail@example.com\n"
            "  password: {placeholder}\nvoicemail:\n  pilot: {ext}\n  ports: {n}\n  from: {assoc_email}\n"
            "dns:\n  - {resolver}\n  - {doc_ip}"
        )
        p.fence(p.one(["yaml", "yml", ""]), lambda: p.w(body))
    elif kind == 5:
        body = (
            "import os\nimport requests\n\nAPI = 'https://{doc_ip}/api/v1'\nTOKEN = "
            "os.environ['MITEL_API_TOKEN']\n"
            "HOOK = os.environ['TEAMS_WEBHOOK_URL']\n\nr = requests.get(f'{{API}}/calls', "
            "headers={{'Authorization': f'Bearer {{TOKEN}}'}}, timeout=10)\n"
            "requests.post(HOOK, json={{'text': f'{{len(r.json())}} missed calls'}}, timeout=10)"
        )
        p.fence("python", lambda: p.w(body))
    else:
        body = (
            "Directory Number: {ext}\nDevice Type: {phone_model}\nMAC Address: {mac}\nCOS: {n}\nCOR: {n2}\n"
            "Interconnect: 1\nZone: 1\nExternal Hot Desk: No\nDisplay Name: Front Desk\nSecond Name: Lobby\n"
            "Line Type: Single\nVoice Mail: {ext2}"
        )
        p.fence("", lambda: p.w(body))


def clean_pem(p: Post) -> None:
    p.w(
        p.one(
            [
                "Here's the cert chain the MBG presents:",
                "CSR below, in case someone spots a problem:",
                "Public key from the box (this is the public part, safe to share):",
                "The intermediate:",
            ]
        )
    )
    p.add("\n\n")
    pem = V.public_pem(p.rng) if p.chance(0.8) else V.ssh_public_key(p.rng)
    p.fence("", lambda: p.add(pem))


def lookalike_block(p: Post) -> None:
    r = p.rng.random()
    if r < 0.45:
        lookalike_paragraph(p)
    elif r < 0.65:
        lookalike_list(p)
    elif r < 0.9:
        p.w(
            p.one(
                [
                    "Config (secrets masked):",
                    "Here's what we have:",
                    "Relevant part of the config:",
                    "Current settings:",
                    "Export from the box:",
                ]
            )
        )
        p.add("\n\n")
        clean_config(p)
    else:
        clean_pem(p)


# ---------------------------------------------------------------------------------------------- logs


def sip_register_flow(p: Post, pbx: Field, host: str, user: str, outcome: str) -> None:
    r = p.rng
    call_id = V.call_id(r, host if isinstance(pbx, S) else pbx)
    tag = V.tag(r)
    ua = p.one(
        [
            "Mitel-3300-ICP/{version}",
            "MiVoice Business/{version}",
            "Mitel MBG/{version}",
            "Aastra 6869i/{fw}",
            "Mitel 6930/{fw}",
            "ShoreTel/{version}",
        ]
    )
    ua_text = p.s(ua)
    nonce = V.sha1(r)[:32]
    for cseq, auth in ((1, False), (2, True)):
        p.w(
            "REGISTER sip:{host} SIP/2.0\nVia: SIP/2.0/UDP {pbx}:5060;branch={branch};rport\nMax-Forwards: "
            "70\n"
            "From: <sip:{user}@{host}>;tag={tag}\nTo: <sip:{user}@{host}>\nCall-ID: {cid}\nCSeq: {cseq} "
            "REGISTER\n"
            "Contact: <sip:{user}@{pbx}:5060;transport=udp>;expires=3600\n",
            host=host,
            pbx=pbx,
            branch=V.branch(r),
            user=user,
            tag=tag,
            cid=call_id,
            cseq=str(cseq),
        )
        if auth:
            p.w(
                'Authorization: Digest username="{user}", realm="{host}", nonce="{nonce}", uri="sip:{host}", '
                'response="{resp}", algorithm=MD5, cnonce="{cn}", qop=auth, nc=00000001\n',
                user=user,
                host=host,
                nonce=nonce,
                resp=V.sha1(r)[:32],
                cn=V.sha1(r)[:8],
            )
        p.w("User-Agent: {ua}\nContent-Length: 0\n\n", ua=ua_text)
        status = "401 Unauthorized" if not auth else outcome
        p.w(
            "SIP/2.0 {status}\nVia: SIP/2.0/UDP {pbx}:5060;branch={branch};rport={rport};received={recv}\n"
            "From: <sip:{user}@{host}>;tag={tag}\nTo: <sip:{user}@{host}>;tag={tag2}\nCall-ID: {cid}\n"
            "CSeq: {cseq} REGISTER\n",
            status=status,
            pbx=pbx,
            branch=V.branch(r),
            rport=str(r.randint(1024, 65000)),
            recv=V.doc_ipv4(r),
            user=user,
            host=host,
            tag=tag,
            tag2=V.tag(r),
            cid=call_id,
            cseq=str(cseq),
        )
        if not auth:
            p.w(
                'WWW-Authenticate: Digest realm="{host}", nonce="{nonce}", algorithm=MD5, qop="auth"\n',
                host=host,
                nonce=nonce,
            )
        elif outcome.startswith("200"):
            p.w("Contact: <sip:{user}@{pbx}:5060;transport=udp>;expires=3600\n", user=user, pbx=pbx)
        p.w(
            "Server: {srv}\nContent-Length: 0\n\n",
            srv=p.one(["Sonus SBC", "Oracle ESBC", "BroadWorks", "Kamailio"]),
        )


def sip_invite_flow(p: Post, pbx: Field, host: str) -> None:
    r = p.rng
    call_id = V.call_id(r, host)
    tag = V.tag(r)
    caller = V.fictional_e164(r)
    callee = V.fictional_e164(r)
    sdp_ip = pbx
    p.w(
        "INVITE sip:{callee}@{host} SIP/2.0\nVia: SIP/2.0/UDP {pbx}:5060;branch={branch}\nMax-Forwards: 69\n"
        'From: "{name}" <sip:{caller}@{host}>;tag={tag}\nTo: <sip:{callee}@{host}>\nCall-ID: {cid}\n'
        "CSeq: 101 INVITE\nContact: <sip:{ext}@{pbx}:5060>\n"
        'P-Asserted-Identity: "{name}" <sip:{caller}@{host}>\n'
        "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, NOTIFY, REFER, UPDATE\nSupported: replaces, timer\n"
        "Content-Type: application/sdp\nContent-Length: {clen}\n\nv=0\no=MxSIP 0 {sess} IN IP4 {sdp}\ns=SIP "
        "Call\n"
        "c=IN IP4 {sdp}\nt=0 0\nm=audio {rtp} RTP/AVP 0 8 18 101\na=rtpmap:0 PCMU/8000\na=rtpmap:8 "
        "PCMA/8000\n"
        "a=rtpmap:101 telephone-event/8000\na=fmtp:101 0-15\na=ptime:20\na=sendrecv\n\n",
        callee=callee,
        host=host,
        pbx=pbx,
        branch=V.branch(r),
        name=p.one(["Reception", "Front Desk", "Main Line", "Sales", "Lakeshore Health"]),
        caller=caller,
        tag=tag,
        cid=call_id,
        clen=str(r.randint(210, 290)),
        sess=str(r.randint(10**6, 10**9)),
        sdp=sdp_ip,
        rtp=str(r.randrange(16384, 32767, 2)),
    )
    for status in (
        "100 Trying",
        "183 Session Progress",
        p.one(["200 OK", "486 Busy Here", "503 Service Unavailable", "488 Not Acceptable Here"]),
    ):
        p.w(
            "SIP/2.0 {status}\nVia: SIP/2.0/UDP {pbx}:5060;branch={branch}\nFrom: "
            "<sip:{caller}@{host}>;tag={tag}\n"
            "To: <sip:{callee}@{host}>;tag={tag2}\nCall-ID: {cid}\nCSeq: 101 INVITE\nContent-Length: 0\n\n",
            status=status,
            pbx=pbx,
            branch=V.branch(r),
            caller=caller,
            host=host,
            tag=tag,
            callee=callee,
            tag2=V.tag(r),
            cid=call_id,
        )


LOG_LINES = {
    "mivb": [
        "{lts} SIP  Trunk '{provider}' registration failed: 403 Forbidden (peer {doc_ip})",
        "{lts} SIP  Trunk '{provider}' registered, expires 3600",
        "{lts} MAINT  Set {ext} ({mac}) registered, firmware {fw}",
        "{lts} MAINT  Set {ext} deregistered: keepalive timeout",
        "{lts} ARS  Route 3 selected for {dialplan}, trunk group 2",
        "{lts} LIC  AMC sync completed, ARID {arid}",
        "{lts} DBMS  Save completed, {big} records",
        "{lts} SIP  OPTIONS to {provider_host}:5060 -> 200 OK ({n} ms)",
        "{lts} SIP  Call-ID {uuid}: 488 Not Acceptable Here from {doc_ip}",
        "{lts} SYS  System release {version} up {n} days",
        "{lts} NET  DNS lookup {provider_host} via {resolver} ok",
        "{lts} ALARM  Minor: voicemail ports {n} of {n2} busy",
    ],
    "phone": [
        "{lts} {phone_model}[{n4}]: SIP: Registration failed for line 1 ({ext}@pbx.example.com): 401 "
        "Unauthorized",
        "{lts} {phone_model}[{n4}]: CFG: downloading http://{doc_ip}/mitel/aastra.cfg",
        "{lts} {phone_model}[{n4}]: CFG: downloading http://{doc_ip}/mitel/{mac}.cfg",
        "{lts} {phone_model}[{n4}]: FW: current firmware {fw}, server firmware {fw2}",
        "{lts} {phone_model}[{n4}]: NET: DHCP lease {doc_ip} mask {netmask} gw {doc_ip2} dns {resolver}",
        "{lts} {phone_model}[{n4}]: SIP: OPTIONS keepalive to {doc_ip}:5060 ok",
        "{lts} {phone_model}[{n4}]: LLDP: VLAN {n} priority 5",
        "{lts} {phone_model}[{n4}]: SIP: Line 1 registered as {sip_uri}",
    ],
    "connect": [
        "{lts}.{n4} ( {n4}: {n4}) SIPStack: REGISTER from {doc_ip}:5060 user={ext} result=401",
        "{lts}.{n4} ( {n4}: {n4}) TMS: Switch ST48MV {mac} connected, version {version}",
        "{lts}.{n4} ( {n4}: {n4}) DRS: Lookup extension {ext} -> site HQ",
        "{lts}.{n4} ( {n4}: {n4}) VMS: Message deposited in mailbox {ext} ({n} s)",
        "{lts}.{n4} ( {n4}: {n4}) TMS: Trunk group SIP-{provider} idle {n} / {n2}",
        "{lts}.{n4} ( {n4}: {n4}) SIPStack: OPTIONS {provider_host} 200 OK",
    ],
    "micc": [
        "{lts} [IVR] Workflow 'Main Menu' entered, call {uuid}, DNIS {e164}",
        "{lts} [IVR] CollectDigits prompt=account_number result=masked length=8",
        "{lts} [Enterprise] Agent {n4} state change: Idle -> ACD",
        "{lts} [Enterprise] Queue P{ext} waiting {n} longest {n2}s",
        "{lts} [SQL] Connection to {doc_ip}\\MICC ok",
        "{lts} [IVR] Variable <ANI> = {e164}",
        "{lts} [IVR] Card capture handed to PCI module, digits masked (****{card_last4})",
    ],
}


def log_line(p: Post, style: str) -> None:
    p.w(p.one(LOG_LINES[style]) + "\n")


LOG_ITEM_LINES: dict[str, list[Callable[[Post], None]]] = {
    "IP_ADDRESS": [
        lambda p: p.w(
            "{lts} SIP  Trunk '{provider}' REGISTER sent from {ip}:5060 to {provider_host}\n", ip=p.ip()
        ),
        lambda p: p.w("{lts} NET  Connection refused from {ip} (port {port})\n", ip=p.ip()),
        lambda p: p.w("{lts} MAINT  Set {ext} registered from {ip}, firmware {fw}\n", ip=p.ip(private=True)),
    ],
    "PASSWORD": [
        lambda p: p.w(
            "{lts} AUTH  login failed for user 'admin' with password '{pw}' from {doc_ip}\n", pw=p.password()
        ),
        lambda p: p.w("{lts} DEBUG ldap bind cn=svc-mitel password={pw} result=49\n", pw=p.password()),
    ],
    "SIP_CREDENTIAL": [
        lambda p: p.w(
            "{lts} SIP  DEBUG register string {user}:{sec}@{provider_host}/{user}\n",
            user=p.field("ext"),
            sec=p.sip(),
        ),
        lambda p: p.w("{lts} SIP  peer '{provider}' auth user={e164} auth_password={sec}\n", sec=p.sip()),
    ],
    "CREDIT_CARD": [
        lambda p: p.w(
            "{lts} [IVR] CollectDigits prompt=card_number result={cc} length=16\n",
            cc=S("CREDIT_CARD", V.card_number(p.rng, p.one(["visa", "mastercard", "discover"]))),
        ),
    ],
    "BEARER_TOKEN": [
        lambda p: p.w(
            "{lts} DEBUG http POST /api/v2/token -> 200 access_token={tok}\n", tok=p.bearer(jwt=True)
        ),
        lambda p: p.w("{lts} DEBUG request headers: Authorization: Bearer {tok}\n", tok=p.bearer()),
    ],
    "API_KEY": [
        lambda p: p.w("{lts} ERROR webhook POST {url} failed: 404\n", url=p.api("slack_webhook")),
        lambda p: p.w("{lts} ERROR webhook POST {url} timed out\n", url=p.api("teams")),
    ],
    "EMAIL": [
        lambda p: p.w(
            "{lts} SMTP  to=<{email}> relay={doc_ip} status=deferred (450 4.2.0)\n", email=p.email()
        ),
    ],
    "PHONE": [
        lambda p: p.w(
            "{lts} ARS  Call forward always for {ext} to external {ph}\n", ph=p.phone(international=False)
        ),
    ],
}


def log_block(p: Post, n_lines: int, item_type: str | None, style: str | None = None) -> None:
    style = style or p.one(sorted(LOG_LINES))
    at = p.rng.randrange(n_lines) if item_type else -1

    def body() -> None:
        for i in range(n_lines):
            if i == at and item_type is not None:
                pick(p.rng, LOG_ITEM_LINES[item_type])(p)
            else:
                log_line(p, style)

    p.fence(p.one(["", "text", "log"]), body)


def huge_log(p: Post, target: int, item_type: str | None) -> None:
    """A long paste (SIP trace or system log) of about ``target`` characters."""
    r = p.rng
    start = p.length
    item_at = start + r.randint(target // 10, target * 9 // 10) if item_type else -1
    style = p.one(sorted(LOG_LINES))
    trace = p.chance(0.5)
    p.add("```\n")
    host = p.provider_host
    clock = datetime(2024, r.randint(1, 12), r.randint(1, 28), r.randint(0, 23), tzinfo=UTC)
    while p.length - start < target:
        if item_type and p.length >= item_at:
            pick(r, LOG_ITEM_LINES[item_type])(p)
            item_type = None
        clock += timedelta(milliseconds=r.randint(5, 4000))
        if trace:
            p.add(f"--- {clock:%Y-%m-%d %H:%M:%S}.{clock.microsecond // 1000:03d} ---\n")
            if r.random() < 0.6:
                sip_register_flow(
                    p, V.doc_ipv4(r), host, V.fictional_e164(r), p.one(["403 Forbidden", "200 OK"])
                )
            else:
                sip_invite_flow(p, V.doc_ipv4(r), host)
        else:
            for _ in range(20):
                log_line(p, style)
    if item_type:
        pick(r, LOG_ITEM_LINES[item_type])(p)
    p.add("```")


def long_paste(p: Post, size: int, item_type: str | None) -> None:
    intro = [
        "Full trace below (sorry, it's long):",
        "Log from last night:",
        "Here's everything from the maintenance log:",
    ]
    p.w(p.one(intro) + "\n\n")
    huge_log(p, size, item_type)


def log_paste(p: Post, n_lines: int, item_type: str | None) -> None:
    p.w(p.one(["Log:", "From the logs:", "Trace:", "Here's what the log shows:"]) + "\n\n")
    log_block(p, n_lines, item_type)


def masked_trace(p: Post) -> None:
    p.w("Trace (our addresses replaced with documentation ones):\n\n")
    pbx, user = V.doc_ipv4(p.rng), V.fictional_e164(p.rng)
    p.fence("", lambda: sip_register_flow(p, pbx, p.provider_host, user, "403 Forbidden"))


# ---------------------------------------------------------------------------------------------- quotations

QUOTED_SENSITIVE: list[Callable[[Post], str]] = [
    lambda p: p.s("Just charge it to my card {cc}, exp {exp}. Thanks!", cc=p.card()),
    lambda p: p.s("You can call me at {ph} after 3 and I'll walk you through it.", ph=p.phone()),
    lambda p: p.s("our trunk secret is {sec}, try it on yours to see if it's the provider", sec=p.sip()),
    lambda p: p.s(
        "The admin login on our box is admin / {pw} if you want to compare settings.", pw=p.password()
    ),
    lambda p: p.s("Email me at {em} and I'll send the full config.", em=p.email()),
    lambda p: p.s("The MBG is at {ip}, you can see it from the outside.", ip=p.ip(private=False)),
    lambda p: p.s("Here's my register line: register => {ext}:{sec}@{provider_host}", sec=p.sip()),
    lambda p: p.s("For the form: SIN {sin}, DOB {dob}.", sin=p.sin(), dob=p.dob()),
    lambda p: p.s("my cell is {ph}, text anytime", ph=p.phone()),
    lambda p: p.s('password="{pw}" is what I set in the json', pw=p.password()),
    lambda p: p.s("Webhook is {url} if you want to test posting to it.", url=p.api("slack_webhook")),
]
QUOTED_PLAIN = [
    "Did you check whether SIP ALG is on? That bit us on the {provider} trunk.",
    "We upgraded to {product} {version} last month without issues.",
    "Make sure the phones get option 66 from DHCP.",
    "Try lowering the registration expiry to 600.",
    "Is this the same as the 488 issue from last year?",
    "The partner said it's a known issue in release {version}.",
    "What firmware are the phones on?",
    "Can you post the SIP trace (mask the passwords)?",
    "We just used the default dial plan {dialplan} and it worked.",
    "Has anyone tried the new MBG release {version}?",
]
QUOTE_RESPONSES_TO_SENSITIVE = [
    "Heads up, you might want to edit that out - this is a public forum.",
    "Please don't post that here! Flagging for the mods to redact.",
    "Thanks - a moderator should probably hide the details above.",
    "(You may want to rotate that now that it's been posted.)",
    "Got it, thanks. I'd change that password now that it's out there.",
]


def quote_block(p: Post, sensitive: bool) -> None:
    """A quotation of another member; sensitive values in it are not labelled."""
    r = p.rng
    with p.capture() as out:
        p.quoting += 1
        parts = [p.s(p.one(QUOTED_PLAIN))] if not sensitive or p.chance(0.5) else []
        if sensitive:
            parts.append(pick(r, QUOTED_SENSITIVE)(p))
        p.add(" ".join(parts))
        p.quoting -= 1
    text = out[0]
    style = r.random()
    if style < 0.45:
        p.add(
            f'[quote="{pick(r, V.HANDLES)}, post:{r.randint(1, 30)}, topic:{r.randint(10, 9000)}"]\n'
            f"{text}\n[/quote]"
        )
    elif style < 0.6:
        first, last = V.person(r)
        h = pick(r, V.HANDLES)
        p.add(
            f'[quote="{first} {last}, post:{r.randint(1, 30)}, topic:{r.randint(10, 9000)}, username:{h}"]\n'
            f"{text}\n[/quote]"
        )
    elif style < 0.7:
        p.add(f"[quote]\n{text}\n[/quote]")
    elif style < 0.9:
        p.add("\n".join("> " + line for line in text.split("\n")))
    else:
        first, last = V.person(r)
        p.add(
            f"On {pick(r, ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'])}, {V.recent_date(r)} {first} {last} via MUG "
            "Forum "
            f"<notifications@mug.org> wrote:\n" + "\n".join("> " + line for line in text.split("\n"))
        )


# ---------------------------------------------------------------------------------------------- signatures

TITLES = [
    "Telecom Analyst", "IT Manager", "Network & Telecom Administrator", "Systems Administrator",
    "Unified Communications Lead", "Director of IT", "Voice Engineer", "IT Support Specialist",
]  # fmt: skip


def signature(p: Post, items: list[str]) -> None:
    lines = ["--"] if p.chance(0.5) else []
    lines.append(f"{p.first} {p.last}")
    if p.chance(0.7):
        lines.append(f"{p.one(TITLES)}, {p.company}" if p.chance(0.5) else f"{p.one(TITLES)} | {p.company}")
    p.add("\n".join(lines) + "\n")
    for t in items:
        if t == "PHONE":
            p.w(
                p.one(["Cell: {v}", "Mobile: {v}", "Direct: {v}", "M: {v}", "Tel. {v}", "Office: {v}"])
                + "\n",
                v=p.phone(),
            )
        elif t == "EMAIL":
            p.w(p.one(["{v}", "Email: {v}", "E: {v}"]) + "\n", v=p.email(own=True))
        elif t == "ADDRESS":
            p.put(p.address(multiline=p.chance(0.3)))
            p.add("\n")
    if not items or p.chance(0.3):
        p.w(
            p.one(
                [
                    "Helpdesk: {role_email}",
                    "Main: {fict_phone}",
                    "MUG member since {year}",
                    "Support line {fict_phone} | {role_email}",
                    "Chapter lead, {city} MUG",
                ]
            )
            + "\n"
        )
    p.trim()


# ---------------------------------------------------------------------------------------------- carriers
# Each carrier writes one block containing one or more sensitive values of its type.


def _list(p: Post, rows: list[tuple[str, Field]]) -> None:
    bullet = p.one(["- ", "* ", "• "])
    for i, (k, v) in enumerate(rows):
        if i:
            p.add("\n")
        p.w(bullet + k + ": {v}", v=v)


def cc_prose(p: Post) -> None:
    p.w(
        p.one(
            [
                "Could someone from the board run my renewal on {cc}, exp {exp}? The PayPal page keeps "
                "erroring out.",
                "The partner portal rejected my card {cc} for the SWA renewal twice. Anyone else having "
                "trouble with it?",
                "For the conference registration please use {cc} (exp {exp}), billing contact {role_email}.",
                "Our IVR test with {cc} went through as a real charge. Oops. Refund requested.",
                "card is {cc} exp {exp} cvv I will give by phone",
            ]
        ),
        cc=p.card(),
    )


def cc_list(p: Post) -> None:
    p.w("Registration details for {first} {last} ({company}):\n\n")
    _list(
        p,
        [
            ("Attendees", p.field("n")),
            ("Card", p.card()),
            ("Expiry", p.field("exp")),
            ("Billing contact", p.field("role_email")),
        ],
    )


def cc_log(p: Post) -> None:
    p.w("This is what the IVR debug log has. It should be masked, right?\n\n")
    cc = S("CREDIT_CARD", V.card_number(p.rng))

    def body() -> None:
        log_line(p, "micc")
        p.w(
            "{lts} [IVR] CollectDigits prompt=card_number result={cc} length={len}\n"
            "{lts} [IVR] Card capture complete\n",
            cc=cc,
            len=str(len(cc.value)),
        )
        log_line(p, "micc")

    p.fence("", body)


def cc_inline(p: Post) -> None:
    p.w(
        "Our PCI scan found `{cc}` in plain text in the call recording tags. How is that possible?",
        cc=p.card(),
    )


def cc_table(p: Post) -> None:
    p.w(
        "Test calls from this morning:\n\n| Agent | Card | Result |\n|---|---|---|\n| {n4} | {cc} | declined "
        "|\n"
        "| {n4} | ****{card_last4} | approved |",
        cc=p.card(),
    )


def ssn_prose(p: Post) -> None:
    p.w(
        p.one(
            [
                "{other_provider} wanted an SSN for the credit check on the new account. I gave them mine "
                "({ssn}) and still "
                "haven't heard back.",
                "The LOA form asked for the last 4 of the SSN but the rep said they need all of it, so: "
                "{ssn}. Seems excessive.",
                "Port got rejected again. They have the account holder's SSN as {ssn}, which is right, so I "
                "don't get it.",
                "my SSN {ssn} is on the credit app they want back by Friday",
            ]
        ),
        ssn=p.ssn(),
    )


def ssn_url(p: Post) -> None:
    p.w(
        "The screen pop URL the CRM vendor set up is "
        "`https://crm.{domain}/member/lookup?ssn={ssn}&ani=<ANI>` "
        "which seems like a bad idea.",
        ssn=p.ssn(),
    )


def ssn_list(p: Post) -> None:
    p.w("What the carrier has on file:\n\n")
    _list(p, [("Account holder", f"{p.first} {p.last}"), ("SSN", p.ssn()), ("Service address", "see LOA")])


def ssn_log(p: Post) -> None:
    p.w("The IVR logs this variable dump every call:\n\n")
    p.fence(
        "",
        lambda: p.w(
            "{lts} [IVR] Variable <CallerSSN> = {ssn}\n{lts} [IVR] Variable <ANI> = {e164}", ssn=p.ssn()
        ),
    )


def sin_prose(p: Post) -> None:
    p.w(
        p.one(
            [
                "Bell Business wanted my SIN for the credit application on the new PRI: {sin}. Is that "
                "normal?",
                "The carrier's form has a social insurance number field; I filled in {sin} but now I'm "
                "second-guessing it.",
                "They asked for SIN {sin} and a copy of my licence just to open a SIP trunk account. Wild.",
                "for the credit check they use my SIN ({sin}) since we are a small company",
            ]
        ),
        sin=p.sin(),
    )


def sin_list(p: Post) -> None:
    p.w("New-hire info the HR system pushes into the phone directory (!):\n\n")
    _list(p, [("Name", f"{p.first} {p.last}"), ("Extension", p.field("ext")), ("SIN", p.sin())])


def sin_json(p: Post) -> None:
    p.w("The CRM screen pop payload includes this:\n\n")
    p.fence(
        "json",
        lambda: p.w(
            '{{\n  "ani": "{e164}",\n  "member_id": "{n4}",\n  "sin": "{sin}",\n  "queue": "P{ext}"\n}}',
            sin=p.sin(),
        ),
    )


def iban_prose(p: Post) -> None:
    p.w(
        p.one(
            [
                "The supplier sent their bank details for the wire: IBAN {iban}, BIC {bic}. Does that look "
                "legit to you?",
                "Refund should go to IBAN {iban} (our Dublin office account).",
                "please transfer to {iban}, reference INV-{n4}",
            ]
        ),
        iban=p.iban(),
        bic=p.one(["COBADEFFXXX", "DEUTDEFF", "NWBKGB2L", "INGBNL2A", "BOFIIE2D", "BNPAFRPP"]),
    )


def iban_block(p: Post) -> None:
    p.w("Pasting the remittance details from their invoice:\n\n")
    p.fence(
        "",
        lambda: p.w(
            "Beneficiary: {company} GmbH\nIBAN: {iban}\nSWIFT/BIC: {bic}\nReference: {order}",
            iban=p.iban(),
            bic=p.one(["COBADEFFXXX", "DEUTDEFF", "RABONL2U"]),
        ),
    )


def iban_list(p: Post) -> None:
    p.w("Bank details for the deposit:\n\n")
    _list(p, [("Account name", f"{p.company}"), ("IBAN", p.iban()), ("Amount", f"EUR {p.field('big')}.00")])


def aba_prose(p: Post) -> None:
    p.w(
        p.one(
            [
                "For the chapter reimbursement by direct deposit: routing number {rtn}, account number "
                "{acct}.",
                "ACH details: ABA {rtn} / acct # {acct}. Thanks treasurer!",
                "Our AP team needs the routing number confirmed - we have {rtn} on file for the association, "
                "is that right?",
            ]
        ),
        rtn=p.rtn(),
        acct=p.acct(),
    )


def aba_list(p: Post) -> None:
    p.w("Direct deposit form:\n\n")
    _list(
        p,
        [
            ("Bank", p.one(["Chase", "TD Bank", "Wells Fargo", "US Bank"])),
            ("ABA routing", p.rtn()),
            ("Account type", "checking"),
        ],
    )


def aba_block(p: Post) -> None:
    p.w("From the vendor's remittance slip:\n\n")
    p.fence(
        "",
        lambda: p.w(
            "Bank: {bank}\nABA/Routing: {rtn}\nAccount number: {acct}\nReference: INV-{n4}",
            bank=p.one(["Chase", "Bank of America", "PNC Bank", "KeyBank"]),
            rtn=p.rtn(),
            acct=p.acct(),
        ),
    )


def acct_prose(p: Post) -> None:
    p.w(
        p.one(
            [
                "Refund can go straight to our account number {acct} at the same branch.",
                "They debited the wrong account: acct # {acct} is ours, the other one isn't.",
                "Wire went out from account number {acct} on {date}, the vendor says they didn't get it.",
            ]
        ),
        acct=p.acct(),
    )


def acct_list(p: Post) -> None:
    _list(p, [("Payee", p.company), ("Account number", p.acct()), ("Memo", f"INV-{p.field('n4')}")])


def email_prose(p: Post) -> None:
    p.w(
        p.one(
            [
                "Email me at {em} and I'll send you the full config.",
                "cc'ing {em} (our network guy) so he sees this.",
                "If anyone from the {city} chapter wants the slides, ping me at {em}.",
                "Send the logs to {em}, not the helpdesk address, it goes into a queue nobody reads.",
                "you can reach me on {em} for the details",
            ]
        ),
        em=p.email(),
    )


def email_config(p: Post) -> None:
    p.w("Voicemail-to-email mapping (subset):\n\n")
    p.fence(
        "",
        lambda: p.w(
            "mailbox {ext}  ->  {em}\nmailbox {ext}  ->  {role_email}\nmailbox {ext}  ->  {em2}",
            em=p.email(),
            em2=p.email(),
        ),
    )


def email_header(p: Post) -> None:
    first, last = V.person(p.rng)
    p.w(
        "Forwarding the reply I got:\n\nFrom: {f} {l} <{em}>\nSent: {date}\nSubject: RE: Ticket {case}\n\n"
        "Hi, we looked at the trace and the 403 comes from your side.",
        f=first,
        l=last,
        em=S("EMAIL", V.email(p.rng, first, last)),
    )


def phone_prose(p: Post) -> None:
    p.w(
        p.one(
            [
                "Call me at {ph} if it's easier to explain on the phone.",
                "My direct line is {ph}, I'm in most mornings.",
                "Text me on {ph} if you get this working, I owe you a coffee.",
                "reach me on my cell {ph} anytime after 4",
                "Our UK office ({ph}) has the same problem, so it's not the trunk.",
                "Tried calling the partner from my mobile {ph} and it shows as Unknown on their side too.",
            ]
        ),
        ph=p.phone(),
    )


def phone_forward(p: Post) -> None:
    p.w(
        "Set {ext} to call forward always to my cell `{ph}` and it only rings once before voicemail.",
        ph=p.phone(international=False),
    )


def phone_cfg(p: Post) -> None:
    p.w("Speed dials in the phone config:\n\n")
    ph = S("PHONE", V.phone_digits(p.rng))
    p.fence(
        "",
        lambda: p.w(
            "prgkey1 type: speeddial\nprgkey1 label: {someone} cell\nprgkey1 value: {ph}\n"
            "prgkey2 type: blf\nprgkey2 value: {ext}\nprgkey3 type: speeddial\nprgkey3 value: {ext2}",
            ph=ph,
        ),
    )


def dob_prose(p: Post) -> None:
    p.w(
        p.one(
            [
                "The port was rejected because the account holder's date of birth didn't match. We sent DOB: "
                "{dob}.",
                "The carrier uses the account holder's birthday as the verification PIN - born {dob}, so no "
                "surprise someone "
                "talked their way in.",
                "Our HR sync pushes 'DOB {dob}' into the directory and now it shows on the phone display!",
                "they wanted date of birth {dob} for the account holder, then said it was wrong",
                "I was born on {dob} and their system says I'm 12. Support is stumped.",
            ]
        ),
        dob=p.dob(),
    )


def dob_list(p: Post) -> None:
    _list(
        p,
        [
            ("Account holder", f"{p.first} {p.last}"),
            ("Date of birth", p.dob()),
            ("Phone on account", p.field("fict_phone")),
        ],
    )


def dob_json(p: Post) -> None:
    p.w("The screen pop payload from the member database:\n\n")
    y, m, d = V.date_parts(p.rng, 1947, 2003)
    dob = S("DOB", f"{y}-{m:02d}-{d:02d}")
    p.fence(
        "json",
        lambda: p.w('{{"ani": "{e164}", "name": "{first} {last}", "dob": "{dob}", "tier": "gold"}}', dob=dob),
    )


def address_prose(p: Post) -> None:
    p.w(
        p.one(
            [
                "Ship the replacement to {adr}, attention {first}.",
                "For teleworker E911 my home office is {adr}.",
                "The dispatchable location for the remote site is {adr} - is that enough for RAY BAUM'S?",
                "The 911 test read back {adr}, which is the old office.",
                "please send the RMA unit to {adr}",
            ]
        ),
        adr=p.address(),
    )


def address_config(p: Post) -> None:
    p.w("The ERL entry we have:\n\n")
    p.fence(
        "",
        lambda: p.w(
            "ERL: HQ-FLOOR2\nCESID: {e164}\nCivic address: {adr}\nLocation: 2nd floor, east wing",
            adr=p.address(),
        ),
    )


def ip_prose(p: Post) -> None:
    p.w(
        p.one(
            [
                "The MBG is at {ip} and the controller at {ip2}.",
                "Phones get {ip} from DHCP but the MiVB never sees them.",
                "Our public IP is {pub}; the provider whitelisted it.",
                "Traceroute dies at {ip}, which is our firewall.",
                "From the MBG I can ping {ip} but not the phones behind it.",
            ]
        ),
        ip=p.ip(private=True),
        ip2=p.ip(private=True),
        pub=p.ip(private=False),
    )


def ip_config(p: Post) -> None:
    p.w("Network part of the config:\n\n")
    ip, gw = p.ip(private=True), None
    parts = ip.value.split(".")
    gw = S("IP_ADDRESS", ".".join([*parts[:3], "1"])) if parts[3] != "1" else None
    p.fence(
        "",
        lambda: p.w(
            "interface vlan {n}\n ip address {ip} {netmask}\n ip default-gateway {gw}\n"
            "ip name-server {resolver}\nntp server {doc_ip}",
            ip=ip,
            gw=gw or p.field("doc_ip"),
        ),
    )


def ip_ping(p: Post) -> None:
    ip = p.ip(private=True)
    p.w("Ping from the controller:\n\n")

    def body() -> None:
        p.w("Pinging {ip} with 32 bytes of data:\n", ip=ip)
        for _ in range(4):
            p.w("Reply from {ip}: bytes=32 time={n}ms TTL=64\n", ip=ip)
        p.w("\nPing statistics for {ip}:\n    Packets: Sent = 4, Received = 4, Lost = 0 (0% loss)", ip=ip)

    p.fence("", body)


def ip_trace(p: Post) -> None:
    p.w("Trace from the {product} (our side masked except the PBX):\n\n")
    pbx = p.ip(private=True)
    p.fence("", lambda: sip_register_flow(p, pbx, p.provider_host, p.field("e164"), "403 Forbidden"))


def ip_firewall(p: Post) -> None:
    p.w("Firewall rule for the provider:\n\n`permit udp host {pub} any eq 5060`", pub=p.ip(private=False))


def ip_inline(p: Post) -> None:
    p.w("I ran `ssh admin@{ip}` and it hangs at the key exchange.", ip=p.ip(private=True))


def pw_prose(p: Post) -> None:
    p.w(
        p.one(
            [
                "The admin password is {pw} and it still won't let me in.",
                "login is admin / {pw} on the MiCollab box if someone wants to look (it's a lab).",
                "pw for the MiCollab box: {pw}",
                "I set the system password to {pw} and now the web UI says invalid credentials.",
                "creds for the voicemail web admin are admin:{pw} (will change after)",
                "The service account for AD sync is svc-mitel with password {pw} - is that enough rights?",
            ]
        ),
        pw=p.password(),
    )


def pw_config(p: Post) -> None:
    kind = p.rng.randint(0, 5)
    if kind == 0:
        p.w("LDAP settings on MiCollab:\n\n")
        p.fence(
            "ini",
            lambda: p.w(
                "server=ldaps://{doc_ip}:636\nbind_dn=CN=svc-mitel,OU=Service,DC=corp,DC=local\n"
                "bind_password={pw}\nbase_dn=DC=corp,DC=local",
                pw=p.password(),
            ),
        )
    elif kind == 1:
        p.w("Connection string from the MiCC config:\n\n")
        p.fence(
            "",
            lambda: p.w(
                "Server={doc_ip}\\MICC;Database=CCMData;User Id=sa;Password={pw};Encrypt=True;",
                pw=p.password(),
            ),
        )
    elif kind == 2:
        p.fence(
            "json",
            lambda: p.w(
                '{{\n  "host": "{doc_ip}",\n  "username": "admin",\n  "password": "{pw}",\n'
                '  "verify_tls": false\n}}',
                pw=S("PASSWORD", V.password(p.rng).replace('"', "")),
            ),
        )
    elif kind == 3:
        p.fence(
            "xml",
            lambda: p.w(
                "<smtp>\n  <host>smtp.office365.com</host>\n  <port>587</port>\n"
                "  <username>voicemail@{domain}</username>\n  <password>{pw}</password>\n</smtp>",
                pw=p.password(xml_safe=True),
            ),
        )
    elif kind == 4:
        p.fence(
            "yaml",
            lambda: p.w(
                "backup:\n  target: sftp://{doc_ip}/backups\n  user: mitelbk\n  pwd: {pw}\n  keep: {n}",
                pw=p.password(),
            ),
        )
    else:
        p.fence(
            "",
            lambda: p.w(
                "smtp_server = mail.{domain}\nsmtp_port = 587\nsmtp_user = nupoint\n"
                "smtp_password = {pw}\nfrom_address = {role_email}",
                pw=p.password(),
            ),
        )


def pw_list(p: Post) -> None:
    p.w("Access for the partner tech tomorrow:\n\n")
    _list(p, [("URL", f"https://{p.field('doc_ip')}/"), ("User", "admin"), ("Pass", p.password())])


def pw_inline(p: Post) -> None:
    p.w("Logged in with `admin` / `{pw}` and the maintenance page is blank.", pw=p.password())


def sip_peer(p: Post) -> None:
    p.w("Here's the peer from sip.conf:\n\n")
    p.fence(
        p.one(["ini", ""]),
        lambda: p.w(
            "[{name}]\ntype={t}\nhost={provider_host}\ndefaultuser={e164}\nsecret={sec}\nfromuser={e164}\n"
            "fromdomain={provider_host}\ninsecure=port,invite\ncontext=from-{name}\ndisallow=all\nallow=ulaw\n"
            "qualify=yes",
            name=p.provider.lower().replace(" ", "").replace(".", ""),
            t=p.one(["peer", "friend"]),
            sec=p.sip(),
        ),
    )


def sip_register(p: Post) -> None:
    p.w("Register line is:\n\n")
    p.fence(
        "", lambda: p.w("register => {user}:{sec}@{provider_host}/{user}", user=p.field("ext"), sec=p.sip())
    )


def sip_pjsip(p: Post) -> None:
    p.fence(
        "ini",
        lambda: p.w(
            "[{name}-auth]\ntype=auth\nauth_type=userpass\nusername={e164}\npassword={sec}\n\n[{name}-reg]\n"
            "type=registration\noutbound_auth={name}-auth\nserver_uri=sip:{provider_host}\n"
            "client_uri=sip:{e164}@{provider_host}\nretry_interval=60",
            name=p.provider.lower().replace(" ", ""),
            sec=p.sip(),
        ),
    )


def sip_phone_cfg(p: Post) -> None:
    p.w("From the {mac}.cfg on the config server:\n\n")
    p.fence(
        "",
        lambda: p.w(
            "sip line1 auth name: {ext}\nsip line1 password: {sec}\nsip line1 user name: {ext}\n"
            "sip line1 display name: {first} {last}\nsip line1 proxy ip: {doc_ip}\nsip line1 registrar ip: "
            "{doc_ip}",
            sec=p.sip(),
        ),
    )


def sip_prose(p: Post) -> None:
    p.w(
        p.one(
            [
                "sip password: {sec} (from the provider's welcome email)",
                "The SIP password the provider gave us is {sec}, and the auth user is the pilot.",
                "I'm using auth_password={sec} and username {e164}, same as the portal shows.",
                "the sip secret is {sec} I think, copied from their portal",
            ]
        ),
        sec=p.sip(),
    )


def sip_uri_cred(p: Post) -> None:
    p.w(
        "The trunk URI in the MBG is `sip:{user}:{sec}@{provider_host}` - is the password allowed in there?",
        user=p.field("e164").lstrip("+"),
        sec=p.sip(),
    )


def sip_form(p: Post) -> None:
    sec = p.sip()
    p.w("SIP Peer Profile, authentication section:\n\n")
    p.fence(
        "",
        lambda: p.w(
            "Registration User Name: {e164}\nAuthentication Option: Use Registration\n"
            "User Name: {e164}\nPassword: {sec}\nConfirm Password: {sec}\nOutbound Proxy: "
            "{provider_host}",
            sec=sec,
        ),
    )


def sip_freeswitch(p: Post) -> None:
    p.fence(
        "xml",
        lambda: p.w(
            '<gateway name="{name}">\n  <param name="username" value="{e164}"/>\n'
            '  <param name="password" value="{sec}"/>\n  <param name="proxy" value="{provider_host}"/>\n'
            '  <param name="register" value="true"/>\n</gateway>',
            name=p.provider.lower().replace(" ", ""),
            sec=p.sip(),
        ),
    )


def key_block(p: Post) -> None:
    p.w(
        p.one(
            [
                "Here's the key and cert I'm trying to import (lab box, will regenerate):",
                "Output of `cat /etc/ssl/private/mbg.key`:",
                "Is this key in the wrong format? MiCollab says 'unable to load private key'.",
                "the key file look like this, is it correct?",
            ]
        )
    )
    p.add("\n\n")
    key = p.key()
    pem = V.public_pem(p.rng) if p.chance(0.4) else None

    def body() -> None:
        if pem:
            p.add(pem + "\n")
        p.put(key)

    p.fence("", body)


def key_ssh(p: Post) -> None:
    p.w("The deploy key our backup job uses to reach the MBG:\n\n")
    p.fence(
        "",
        lambda: p.put(
            S("PRIVATE_KEY", V._pem(p.rng, "OPENSSH PRIVATE KEY", V.PEM_KINDS["OPENSSH PRIVATE KEY"]))
        ),
    )


def api_script(p: Post) -> None:
    kind = p.one(["slack_webhook", "teams", "discord"])
    p.w("Script that posts the alert:\n\n")
    p.fence(
        "python",
        lambda: p.w(
            'import requests\n\nWEBHOOK = "{url}"\n\ndef alert(text):\n'
            '    requests.post(WEBHOOK, json={{"text": text}}, timeout=10)\n\nalert("Trunk {provider} down")',
            url=p.api(kind),
        ),
    )


def api_env(p: Post) -> None:
    p.w("Our .env for the backup job:\n\n")
    p.fence(
        "",
        lambda: p.w(
            "AWS_ACCESS_KEY_ID={k}\nAWS_SECRET_ACCESS_KEY={s}\nAWS_DEFAULT_REGION=ca-central-1\n"
            "BUCKET=mivb-backups",
            k=p.api("aws"),
            s=p.api("aws_secret"),
        ),
    )


def api_curl(p: Post) -> None:
    p.fence(
        "bash",
        lambda: p.w(
            "curl -X POST -H 'Content-type: application/json' --data '{{\"text\":\"MBG failover\"}}' {url}",
            url=p.api("slack_webhook"),
        ),
    )


def api_yaml(p: Post) -> None:
    kind = p.one(["hex40", "stripe", "sendgrid", "google", "twilio", "github"])
    key = p.api(kind)
    p.w(p.one(["Config for the notifier:", "The relevant bit:", "Settings file:"]) + "\n\n")
    if kind == "hex40":
        p.fence("", lambda: p.w('[notifier]\napi_key = "{k}"\nendpoint = https://api.example.com/v2', k=key))
    elif kind == "stripe":
        p.fence("", lambda: p.w("STRIPE_SECRET_KEY={k}\nSTRIPE_CURRENCY=cad", k=key))
    elif kind == "sendgrid":
        p.fence("", lambda: p.w("smtp host: smtp.sendgrid.net\nsmtp user: apikey\nsmtp password: {k}", k=key))
    elif kind == "google":
        p.fence(
            "", lambda: p.w("GEOCODE_URL=https://maps.googleapis.com/maps/api/geocode/json?key={k}", k=key)
        )
    elif kind == "twilio":
        p.fence(
            "", lambda: p.w("TWILIO_ACCOUNT_SID=AC{sid}\nTWILIO_AUTH_TOKEN={k}", sid=V._hex(p.rng, 32), k=key)
        )
    else:
        p.fence("bash", lambda: p.w("git clone https://{k}@github.com/{domain}/pbx-scripts.git", k=key))


def api_prose(p: Post) -> None:
    p.w(
        p.one(
            [
                "Teams webhook is {url} - works from Postman but not from the script.",
                "Slack bot token is {tok}, scopes are chat:write only.",
                "The AWS key {aws} is the one in the backup job, it has S3 write only.",
            ]
        ),
        url=p.api("teams"),
        tok=p.api("slack_bot"),
        aws=p.api("aws"),
    )


def bearer_curl(p: Post) -> None:
    p.fence(
        "bash",
        lambda: p.w(
            'curl -s -H "Authorization: Bearer {tok}" https://{doc_ip}/api/v1/users?limit=50', tok=p.bearer()
        ),
    )


def bearer_http(p: Post) -> None:
    p.w("Request as captured:\n\n")
    p.fence(
        "http",
        lambda: p.w(
            "GET /api/v1/calls?since=2024-01-01 HTTP/1.1\nHost: micollab.{domain}\n"
            "Authorization: Bearer {tok}\nAccept: application/json\nUser-Agent: python-requests/2.31",
            tok=p.bearer(),
        ),
    )


def bearer_json(p: Post) -> None:
    p.w("The token endpoint returns:\n\n")
    p.fence(
        "json",
        lambda: p.w(
            '{{\n  "access_token": "{tok}",\n  "token_type": "Bearer",\n  "expires_in": 3600\n}}',
            tok=p.bearer(jwt=True),
        ),
    )


def bearer_python(p: Post) -> None:
    p.fence(
        "python",
        lambda: p.w(
            'headers = {{"Authorization": "Bearer {tok}", "Accept": "application/json"}}\n'
            "r = requests.get(URL, headers=headers, timeout=10)",
            tok=p.bearer(),
        ),
    )


def bearer_prose(p: Post) -> None:
    p.w("The token I get back is {tok} - decoding it, the scope claim is missing.", tok=p.bearer(jwt=True))


CARRIERS: dict[str, list[Callable[[Post], None]]] = {
    "CREDIT_CARD": [cc_prose, cc_prose, cc_list, cc_log, cc_inline, cc_table],
    "US_SSN": [ssn_prose, ssn_prose, ssn_url, ssn_list, ssn_log],
    "CA_SIN": [sin_prose, sin_prose, sin_list, sin_json],
    "IBAN": [iban_prose, iban_block, iban_list],
    "ABA_ROUTING": [aba_prose, aba_prose, aba_list, aba_block],
    "BANK_ACCOUNT": [acct_prose, acct_list],
    "EMAIL": [email_prose, email_prose, email_config, email_header],
    "PHONE": [phone_prose, phone_prose, phone_forward, phone_cfg],
    "DOB": [dob_prose, dob_prose, dob_list, dob_json],
    "ADDRESS": [address_prose, address_prose, address_config],
    "IP_ADDRESS": [ip_prose, ip_prose, ip_config, ip_ping, ip_trace, ip_firewall, ip_inline],
    "PASSWORD": [pw_prose, pw_prose, pw_config, pw_config, pw_list, pw_inline],
    "SIP_CREDENTIAL": [
        sip_peer,
        sip_register,
        sip_pjsip,
        sip_phone_cfg,
        sip_prose,
        sip_uri_cred,
        sip_form,
        sip_freeswitch,
    ],
    "PRIVATE_KEY": [key_block, key_block, key_ssh],
    "API_KEY": [api_script, api_env, api_curl, api_yaml, api_yaml, api_prose],
    "BEARER_TOKEN": [bearer_curl, bearer_http, bearer_json, bearer_python, bearer_prose],
}
SIGNATURE_TYPES = ("EMAIL", "PHONE", "ADDRESS")

# ---------------------------------------------------------------------------------------------- assembly


class Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.pools: dict[str, list[str]] = {}

    def post(self, planted: bool, types: list[str], log_size: int) -> dict:
        for _attempt in range(20):
            p = Post(self, planted)
            self._write(p, types, log_size)
            raw = p.text()
            distinct = {(lab["type"], raw[lab["start"] : lab["end"]]) for lab in p.labels}
            if not planted or 1 <= len(distinct) <= MAX_ITEMS:
                labels = sorted(p.labels, key=lambda x: x["start"])
                return {"raw": raw, "labels": labels, "kind": "planted" if planted else "clean"}
        raise RuntimeError("could not build a planted post within the item limit")

    def _write(self, p: Post, types: list[str], log_size: int) -> None:
        r = p.rng
        topic = self._topic(p, types)
        blocks: list[Callable[[], None]] = []
        if not log_size and r.random() < 0.08:
            # a one- or two-liner: a quick reply, or the sensitive bit on its own
            if p.planted:
                carriers = [pick(r, CARRIERS[t]) for t in types]
                blocks.extend(lambda c=c: c(p) for c in carriers)
            else:
                blocks.append(lambda: p.add(p.s(p.one(REPLY_OPENERS)) + " " + lookalike_sentence(p)))
            self._join(p, blocks)
            return
        reply = r.random() < 0.25
        if r.random() < 0.35:
            blocks.append(lambda: p.w(p.one(GREETINGS)))
        if reply or r.random() < (0.15 if p.planted else 0.25):
            sensitive_quote = r.random() < (0.3 if p.planted else 0.55)
            blocks.append(lambda: quote_block(p, sensitive_quote))
            if sensitive_quote and r.random() < 0.35:
                blocks.append(lambda: p.w(p.one(QUOTE_RESPONSES_TO_SENSITIVE)))
        blocks.append(lambda: paragraph(p, topic, reply))
        body: list[Callable[[], None]] = []
        for _ in range(r.choice([0, 1, 1, 2])):
            body.append(lambda: detail(p, topic))
        n_look = r.randint(2, 5) if not p.planted else r.randint(0, 2)
        for _ in range(n_look):
            body.append(lambda: lookalike_block(p))
        log_item = None
        if types and log_size and r.random() < 0.6:
            candidates = [t for t in types if t in LOG_ITEM_LINES]
            log_item = pick(r, candidates) if candidates else None
        if log_size >= 20000:
            body.append(lambda: long_paste(p, log_size, log_item))
        elif log_size:
            body.append(lambda: log_paste(p, max(4, log_size // 90), log_item))
        if not p.planted and r.random() < 0.2:
            body.append(lambda: log_block(p, r.randint(5, 25), None))
        if not p.planted and r.random() < 0.15:
            body.append(lambda: masked_trace(p))
        sig_items: list[str] = []
        for t in types:
            if t == log_item:
                continue
            if t in SIGNATURE_TYPES and r.random() < 0.35:
                sig_items.append(t)
                continue
            carrier = pick(r, CARRIERS[t])
            body.insert(r.randint(0, len(body)), lambda c=carrier: c(p))
        if r.random() < 0.3:
            r.shuffle(body)
        blocks.extend(body)
        if r.random() < 0.5:
            blocks.append(lambda: p.w(p.one(CLOSINGS)))
        if sig_items or r.random() < 0.3:
            blocks.append(lambda: signature(p, sig_items))
        self._join(p, blocks)

    @staticmethod
    def _join(p: Post, blocks: list[Callable[[], None]]) -> None:
        for i, block in enumerate(blocks):
            if i:
                p.add("\n\n")
            block()

    def _topic(self, p: Post, types: list[str]) -> str:
        if types:
            fitting = [t for t, ts in TOPIC_TYPES.items() if types[0] in ts]
            return pick(p.rng, fitting)
        return pick(p.rng, sorted(TOPICS))


def _choose_types(rng: random.Random, primary: str) -> list[str]:
    types = [primary]
    topics = [t for t, ts in TOPIC_TYPES.items() if primary in ts]
    extra = rng.choices([0, 1, 2], weights=[50, 35, 15])[0]
    pool = sorted({*GENERIC_TYPES, *(x for t in topics for x in TOPIC_TYPES[t])} - {primary})
    for t in rng.sample(pool, extra):
        types.append(t)
    return types


def generate(seed: int, posts: int) -> list[dict]:
    """``posts`` posts, half planted and half clean, fully determined by ``seed``."""
    gen = Generator(seed)
    rng = gen.rng
    n_planted = posts // 2
    kinds = [True] * n_planted + [False] * (posts - n_planted)
    rng.shuffle(kinds)
    primaries = [checks.TYPES[i % len(checks.TYPES)] for i in range(n_planted)]
    rng.shuffle(primaries)
    huge = set(rng.sample(range(posts), max(1, posts // 100))) if posts >= 10 else set()
    width = max(4, len(str(posts)))
    out = []
    planted_i = 0
    for i, planted in enumerate(kinds):
        types: list[str] = []
        if planted:
            types = _choose_types(rng, primaries[planted_i])
            planted_i += 1
        if i in huge:
            log_size = rng.randint(20_000, 95_000)
        elif rng.random() < 0.15:
            log_size = rng.randint(1_000, 5_000)
        else:
            log_size = 0
        post = gen.post(planted, types, log_size)
        out.append({"id": f"gen-{i + 1:0{width}d}", **post})
    return out


# ---------------------------------------------------------------------------------------------- CLI


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def write_jsonl(posts: list[dict], out: TextIO) -> None:
    for post in posts:
        out.write(json.dumps(post, ensure_ascii=False) + "\n")


def run_check(posts: list[dict], max_items: int | None, name: str) -> bool:
    problems = checks.check_posts(posts, max_items)
    print(f"== {name}")
    print(checks.summary(posts))
    if problems:
        print(f"FAIL: {len(problems)} problems")
        for line in problems[:50]:
            print("  " + line)
        return False
    print("OK: labels valid, no overlaps, clean posts unlabelled, quotations unlabelled, no unlabelled leaks")
    return True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--posts", type=int, default=2000)
    ap.add_argument("--out", type=Path, help="JSONL output file (default: stdout)")
    ap.add_argument("--check", action="store_true", help="verify the corpus instead of writing it")
    ap.add_argument("--in", dest="inputs", type=Path, nargs="+", help="with --check: JSONL files to verify")
    args = ap.parse_args(argv)
    if args.check:
        ok = True
        if args.inputs:
            for path in args.inputs:
                ok &= run_check(read_jsonl(path), None, path.name)
        else:
            posts = generate(args.seed, args.posts)
            ok &= run_check(posts, MAX_ITEMS, f"generated, seed {args.seed}, {args.posts} posts")
            if generate(args.seed, args.posts) != posts:
                print("FAIL: two runs with the same seed differ")
                ok = False
            else:
                print("OK: deterministic for the seed")
        return 0 if ok else 1
    posts = generate(args.seed, args.posts)
    if args.out:
        with args.out.open("w", encoding="utf-8") as f:
            write_jsonl(posts, f)
    else:
        write_jsonl(posts, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
